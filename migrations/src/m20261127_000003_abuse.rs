//! Abuse resistance: per-mailbox and global mail counters, block lists, the audit log,
//! the server's own secrets, and when a signature was invalidated.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum MailQuota {
    Table,
    MailboxHash,
    WindowStart,
    Count,
}

#[derive(DeriveIden)]
enum MailCeiling {
    Table,
    WindowStart,
    Count,
}

#[derive(DeriveIden)]
enum BlockedDomains {
    Table,
    Domain,
    Reason,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum BlockedNetworks {
    Table,
    Network,
    Reason,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    CampaignId,
    Reason,
    Details,
}

#[derive(DeriveIden)]
enum Secrets {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    InvalidatedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Confirmation mails per mailbox per hour: a row per (hashed mailbox, hour).
        manager
            .create_table(
                Table::create()
                    .table(MailQuota::Table)
                    .col(string(MailQuota::MailboxHash))
                    .col(timestamp_with_time_zone(MailQuota::WindowStart))
                    .col(integer(MailQuota::Count))
                    .primary_key(
                        Index::create()
                            .col(MailQuota::MailboxHash)
                            .col(MailQuota::WindowStart),
                    )
                    .to_owned(),
            )
            .await?;
        // Mail sent per minute, by every process together.
        manager
            .create_table(
                Table::create()
                    .table(MailCeiling::Table)
                    .col(timestamp_with_time_zone(MailCeiling::WindowStart).primary_key())
                    .col(integer(MailCeiling::Count))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlockedDomains::Table)
                    .col(string(BlockedDomains::Domain).primary_key())
                    .col(string(BlockedDomains::Reason))
                    .col(string(BlockedDomains::AddedBy))
                    .col(timestamp_with_time_zone(BlockedDomains::AddedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlockedNetworks::Table)
                    .col(string(BlockedNetworks::Network).primary_key())
                    .col(string(BlockedNetworks::Reason))
                    .col(string(BlockedNetworks::AddedBy))
                    .col(timestamp_with_time_zone(BlockedNetworks::AddedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(big_integer_null(AuditLog::CampaignId))
                    .col(text(AuditLog::Reason))
                    .col(text(AuditLog::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Secrets::Table)
                    .col(string(Secrets::Name).primary_key())
                    .col(string(Secrets::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Signatures::Table)
                    .add_column(timestamp_with_time_zone_null(Signatures::InvalidatedAt))
                    .to_owned(),
            )
            .await
    }
}
