//! The first cut of the data: unions and locals, campaigns with versioned texts and
//! sponsors, signatures, sharded tallies, and the mail outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Unions {
    Table,
    Id,
    Slug,
    Name,
    ShortName,
}

#[derive(DeriveIden)]
enum Locals {
    Table,
    Id,
    UnionId,
    Name,
    Slug,
    City,
    Region,
    MemberCount,
    MemberCountAsOf,
}

#[derive(DeriveIden)]
enum MemberCounts {
    Table,
    Id,
    LocalId,
    MemberCount,
    AsOf,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    Slug,
    Kind,
    Addressee,
    Status,
    Goal,
    OpensAt,
    ClosesAt,
    PublicBreakdown,
    AllowCommunity,
    DefaultLanguage,
    IsDemo,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CampaignTexts {
    Table,
    Id,
    CampaignId,
    Language,
    Version,
    Title,
    Summary,
    BodyMd,
    Sha256,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CampaignSponsors {
    Table,
    CampaignId,
    UnionId,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    Id,
    CampaignId,
    LocalId,
    GivenName,
    FamilyName,
    Email,
    CanonicalEmail,
    Employer,
    PostalCode,
    Phone,
    Language,
    TextId,
    ShowName,
    Status,
    ConfirmTokenHash,
    ConfirmExpiresAt,
    WithdrawTokenHash,
    CreatedAt,
    ConfirmedAt,
    WithdrawnAt,
    Ip,
}

#[derive(DeriveIden)]
enum LocalTallies {
    Table,
    CampaignId,
    LocalId,
    Shard,
    Count,
}

#[derive(DeriveIden)]
enum SupporterTallies {
    Table,
    CampaignId,
    Shard,
    Count,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    Recipient,
    Subject,
    BodyText,
    BodyHtml,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Unions::Table)
                    .col(big_pk_auto(Unions::Id))
                    .col(string_uniq(Unions::Slug))
                    .col(string(Unions::Name))
                    .col(string(Unions::ShortName))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Locals::Table)
                    .col(big_pk_auto(Locals::Id))
                    .col(big_integer(Locals::UnionId))
                    .col(string(Locals::Name))
                    .col(string(Locals::Slug))
                    .col(string_null(Locals::City))
                    .col(string_null(Locals::Region))
                    .col(big_integer_null(Locals::MemberCount))
                    .col(date_null(Locals::MemberCountAsOf))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Locals::Table, Locals::UnionId)
                            .to(Unions::Table, Unions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("locals_union_slug")
                    .table(Locals::Table)
                    .col(Locals::UnionId)
                    .col(Locals::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MemberCounts::Table)
                    .col(big_pk_auto(MemberCounts::Id))
                    .col(big_integer(MemberCounts::LocalId))
                    .col(big_integer(MemberCounts::MemberCount))
                    .col(date(MemberCounts::AsOf))
                    .col(timestamp_with_time_zone(MemberCounts::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MemberCounts::Table, MemberCounts::LocalId)
                            .to(Locals::Table, Locals::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(big_pk_auto(Campaigns::Id))
                    .col(string_uniq(Campaigns::Slug))
                    .col(string(Campaigns::Kind))
                    .col(string(Campaigns::Addressee))
                    .col(string(Campaigns::Status))
                    .col(big_integer_null(Campaigns::Goal))
                    .col(timestamp_with_time_zone_null(Campaigns::OpensAt))
                    .col(timestamp_with_time_zone_null(Campaigns::ClosesAt))
                    .col(string(Campaigns::PublicBreakdown))
                    .col(boolean(Campaigns::AllowCommunity))
                    .col(string(Campaigns::DefaultLanguage))
                    .col(boolean(Campaigns::IsDemo))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignTexts::Table)
                    .col(big_pk_auto(CampaignTexts::Id))
                    .col(big_integer(CampaignTexts::CampaignId))
                    .col(string(CampaignTexts::Language))
                    .col(integer(CampaignTexts::Version))
                    .col(string(CampaignTexts::Title))
                    .col(text(CampaignTexts::Summary))
                    .col(text(CampaignTexts::BodyMd))
                    .col(string(CampaignTexts::Sha256))
                    .col(timestamp_with_time_zone(CampaignTexts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignTexts::Table, CampaignTexts::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("campaign_texts_version")
                    .table(CampaignTexts::Table)
                    .col(CampaignTexts::CampaignId)
                    .col(CampaignTexts::Language)
                    .col(CampaignTexts::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignSponsors::Table)
                    .col(big_integer(CampaignSponsors::CampaignId))
                    .col(big_integer(CampaignSponsors::UnionId))
                    .primary_key(
                        Index::create()
                            .col(CampaignSponsors::CampaignId)
                            .col(CampaignSponsors::UnionId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignSponsors::Table, CampaignSponsors::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignSponsors::Table, CampaignSponsors::UnionId)
                            .to(Unions::Table, Unions::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Signatures::Table)
                    .col(uuid(Signatures::Id).primary_key())
                    .col(big_integer(Signatures::CampaignId))
                    .col(big_integer_null(Signatures::LocalId))
                    .col(string(Signatures::GivenName))
                    .col(string(Signatures::FamilyName))
                    .col(string(Signatures::Email))
                    .col(string(Signatures::CanonicalEmail))
                    .col(string_null(Signatures::Employer))
                    .col(string_null(Signatures::PostalCode))
                    .col(string_null(Signatures::Phone))
                    .col(string(Signatures::Language))
                    .col(big_integer(Signatures::TextId))
                    .col(boolean(Signatures::ShowName))
                    .col(string(Signatures::Status))
                    .col(string_null(Signatures::ConfirmTokenHash))
                    .col(timestamp_with_time_zone_null(Signatures::ConfirmExpiresAt))
                    .col(string_null(Signatures::WithdrawTokenHash))
                    .col(timestamp_with_time_zone(Signatures::CreatedAt))
                    .col(timestamp_with_time_zone_null(Signatures::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(Signatures::WithdrawnAt))
                    .col(string_null(Signatures::Ip))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Signatures::Table, Signatures::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Signatures::Table, Signatures::LocalId)
                            .to(Locals::Table, Locals::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Signatures::Table, Signatures::TextId)
                            .to(CampaignTexts::Table, CampaignTexts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One signature per person per campaign: the database, not the code, says so.
        for (name, cols) in [
            (
                "signatures_campaign_email",
                vec![Signatures::CampaignId, Signatures::CanonicalEmail],
            ),
            (
                "signatures_confirm_token",
                vec![Signatures::ConfirmTokenHash],
            ),
            (
                "signatures_withdraw_token",
                vec![Signatures::WithdrawTokenHash],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Signatures::Table).unique();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("signatures_campaign_status_local")
                    .table(Signatures::Table)
                    .col(Signatures::CampaignId)
                    .col(Signatures::Status)
                    .col(Signatures::LocalId)
                    .to_owned(),
            )
            .await?;

        // Tallies are spread over shard rows so that no single row takes every write.
        manager
            .create_table(
                Table::create()
                    .table(LocalTallies::Table)
                    .col(big_integer(LocalTallies::CampaignId))
                    .col(big_integer(LocalTallies::LocalId))
                    .col(small_integer(LocalTallies::Shard))
                    .col(big_integer(LocalTallies::Count))
                    .primary_key(
                        Index::create()
                            .col(LocalTallies::CampaignId)
                            .col(LocalTallies::LocalId)
                            .col(LocalTallies::Shard),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LocalTallies::Table, LocalTallies::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LocalTallies::Table, LocalTallies::LocalId)
                            .to(Locals::Table, Locals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SupporterTallies::Table)
                    .col(big_integer(SupporterTallies::CampaignId))
                    .col(small_integer(SupporterTallies::Shard))
                    .col(big_integer(SupporterTallies::Count))
                    .primary_key(
                        Index::create()
                            .col(SupporterTallies::CampaignId)
                            .col(SupporterTallies::Shard),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupporterTallies::Table, SupporterTallies::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string(Outbox::Kind))
                    .col(string(Outbox::Recipient))
                    .col(string(Outbox::Subject))
                    .col(text_null(Outbox::BodyText))
                    .col(text_null(Outbox::BodyHtml))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::SentAt)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }
}
