//! Access that can be guessed at no longer and taken back: counters of wrong codes per
//! half-signed session and per account, an account lock set by wrong codes, who made
//! each API key (it stops working with their access), and single-use recovery codes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Users {
    Table,
    FailedCodes,
    FirstFailedCodeAt,
    LockedUntil,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    CodeFailures,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    CreatedBy,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_columns(
            manager,
            Users::Table,
            [
                // Wrong codes since `first_failed_code_at`, across sessions: ten in an
                // hour lock the account until `locked_until`.
                integer(Users::FailedCodes).default(0).to_owned(),
                timestamp_with_time_zone_null(Users::FirstFailedCodeAt),
                timestamp_with_time_zone_null(Users::LockedUntil),
            ],
        )
        .await?;
        // Wrong codes given in this half-signed session: five end it.
        crate::add_columns(
            manager,
            Sessions::Table,
            [integer(Sessions::CodeFailures).default(0).to_owned()],
        )
        .await?;
        // The user who made the key; none for a key made on the command line.
        crate::add_columns(
            manager,
            ApiKeys::Table,
            [big_integer_null(ApiKeys::CreatedBy)],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(big_pk_auto(RecoveryCodes::Id))
                    .col(big_integer(RecoveryCodes::UserId))
                    // SHA-256 of the code: ten random words, so a fast hash is enough.
                    .col(string_uniq(RecoveryCodes::CodeHash))
                    .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recovery_codes_by_user")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
