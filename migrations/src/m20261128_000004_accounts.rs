//! Accounts: users with argon2 password hashes and TOTP, the roles they hold, their
//! server-side sessions, single-use invitations, and API keys for exports. Secrets
//! (session tokens, invitation tokens, API keys) are stored only as SHA-256 hashes.
//! Also who recorded each member count, which signatures an officer entered from a
//! paper sheet, and how long an archived campaign keeps its signers' details.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    TotpSecret,
    TotpEnabledAt,
    TotpLastStep,
    FailedSignIns,
    LastFailedAt,
    CreatedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum RoleGrants {
    Table,
    Id,
    UserId,
    Role,
    CampaignId,
    UnionId,
    LocalId,
    GrantedBy,
    GrantedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    TokenHash,
    UserId,
    SecondFactor,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TokenHash,
    Email,
    Role,
    CampaignId,
    UnionId,
    LocalId,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    KeyHash,
    Role,
    CampaignId,
    LocalId,
    Label,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum MemberCounts {
    Table,
    RecordedBy,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    AttestedBy,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    RetentionDays,
    ArchivedAt,
    PurgedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_uniq(Users::Email))
                    .col(string(Users::PasswordHash))
                    .col(string_null(Users::TotpSecret))
                    .col(timestamp_with_time_zone_null(Users::TotpEnabledAt))
                    // The last accepted code's time step: a code is good once.
                    .col(big_integer_null(Users::TotpLastStep))
                    .col(integer(Users::FailedSignIns).default(0))
                    .col(timestamp_with_time_zone_null(Users::LastFailedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone_null(Users::DisabledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleGrants::Table)
                    .col(big_pk_auto(RoleGrants::Id))
                    .col(big_integer(RoleGrants::UserId))
                    // `admin`, `organizer` (of a campaign, or of a union) or `officer`.
                    .col(string(RoleGrants::Role))
                    .col(big_integer_null(RoleGrants::CampaignId))
                    .col(big_integer_null(RoleGrants::UnionId))
                    .col(big_integer_null(RoleGrants::LocalId))
                    .col(string(RoleGrants::GrantedBy))
                    .col(timestamp_with_time_zone(RoleGrants::GrantedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("role_grants_by_user")
                    .table(RoleGrants::Table)
                    .col(RoleGrants::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::TokenHash).primary_key())
                    .col(big_integer(Sessions::UserId))
                    .col(boolean(Sessions::SecondFactor))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_by_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(big_pk_auto(Invitations::Id))
                    .col(string_uniq(Invitations::TokenHash))
                    .col(string(Invitations::Email))
                    .col(string(Invitations::Role))
                    .col(big_integer_null(Invitations::CampaignId))
                    .col(big_integer_null(Invitations::UnionId))
                    .col(big_integer_null(Invitations::LocalId))
                    .col(string(Invitations::InvitedBy))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(big_pk_auto(ApiKeys::Id))
                    .col(string_uniq(ApiKeys::KeyHash))
                    .col(string(ApiKeys::Role))
                    .col(big_integer_null(ApiKeys::CampaignId))
                    .col(big_integer_null(ApiKeys::LocalId))
                    .col(string(ApiKeys::Label))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MemberCounts::Table)
                    .add_column(string(MemberCounts::RecordedBy).default(""))
                    .to_owned(),
            )
            .await?;
        // Set when an officer entered the signature from a paper sheet: who did.
        manager
            .alter_table(
                Table::alter()
                    .table(Signatures::Table)
                    .add_column(string_null(Signatures::AttestedBy))
                    .to_owned(),
            )
            .await?;
        crate::add_columns(
            manager,
            Campaigns::Table,
            [
                integer(Campaigns::RetentionDays).default(90).to_owned(),
                timestamp_with_time_zone_null(Campaigns::ArchivedAt),
                timestamp_with_time_zone_null(Campaigns::PurgedAt),
            ],
        )
        .await?;
        Ok(())
    }
}
