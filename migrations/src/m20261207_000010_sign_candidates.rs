//! A second sign request for an address whose signature is still pending waits beside it
//! as a candidate with its own link and details, instead of overwriting the first: each
//! link confirms what its own request said, and the first one confirmed retires the rest.
//! And a campaign's public breakdown moves on a cadence of its own
//! (`breakdown_every_minutes`), not with each signature.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum SignCandidates {
    Table,
    Id,
    SignatureId,
    LocalId,
    GivenName,
    FamilyName,
    Email,
    Employer,
    PostalCode,
    Phone,
    Language,
    TextId,
    ShowName,
    ConfirmTokenHash,
    ConfirmExpiresAt,
    CreatedAt,
    Ip,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    BreakdownEveryMinutes,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_columns(
            manager,
            Campaigns::Table,
            [integer(Campaigns::BreakdownEveryMinutes)
                .default(5)
                .to_owned()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignCandidates::Table)
                    .col(uuid(SignCandidates::Id).primary_key())
                    .col(uuid(SignCandidates::SignatureId))
                    .col(big_integer_null(SignCandidates::LocalId))
                    .col(string(SignCandidates::GivenName))
                    .col(string(SignCandidates::FamilyName))
                    .col(string(SignCandidates::Email))
                    .col(string_null(SignCandidates::Employer))
                    .col(string_null(SignCandidates::PostalCode))
                    .col(string_null(SignCandidates::Phone))
                    .col(string(SignCandidates::Language))
                    .col(big_integer(SignCandidates::TextId))
                    .col(boolean(SignCandidates::ShowName))
                    .col(string(SignCandidates::ConfirmTokenHash).unique_key())
                    .col(timestamp_with_time_zone(SignCandidates::ConfirmExpiresAt))
                    .col(timestamp_with_time_zone(SignCandidates::CreatedAt))
                    .col(string_null(SignCandidates::Ip))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SignCandidates::Table, SignCandidates::SignatureId)
                            .to(Signatures::Table, Signatures::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sign_candidates_signature")
                    .table(SignCandidates::Table)
                    .col(SignCandidates::SignatureId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignCandidates::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Campaigns::Table)
                    .drop_column(Campaigns::BreakdownEveryMinutes)
                    .to_owned(),
            )
            .await
    }
}
