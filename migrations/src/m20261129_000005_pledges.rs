//! Strike pledges that bind when enough have pledged: a campaign's threshold rule, the
//! locals that may sign a campaign (with, for a pledge, each local's member count frozen
//! when it opens and the moment it reached its threshold), officers' membership
//! verification, member lists kept only as keyed hashes, and the announcements told to
//! pledgers once a threshold is reached or the deadline passes unmet.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    ShareNeededBp,
    PerLocalNeeded,
    TotalNeeded,
    LocalsNeeded,
    VerifiedOnly,
    WithoutMemberCount,
    SealedNames,
    AutoRelease,
    ReachedMessage,
    UnmetMessage,
    ReachedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum Locals {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CampaignLocals {
    Table,
    CampaignId,
    LocalId,
    MemberCount,
    FrozenAt,
    ProposedMemberCount,
    ProposedAt,
    ProposedBy,
    ReachedAt,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    Verification,
    VerifiedBy,
    VerifiedAt,
}

#[derive(DeriveIden)]
enum MemberHashes {
    Table,
    LocalId,
    Hash,
    UploadedAt,
}

#[derive(DeriveIden)]
enum Announcements {
    Table,
    Id,
    CampaignId,
    LocalId,
    ScopeKey,
    Kind,
    Message,
    CreatedAt,
    ReleasedAt,
    ReleasedBy,
    Cursor,
    FinishedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_columns(
            manager,
            Campaigns::Table,
            [
                // The share of each local's members needed, in hundredths of a percent.
                integer_null(Campaigns::ShareNeededBp),
                big_integer_null(Campaigns::PerLocalNeeded),
                big_integer_null(Campaigns::TotalNeeded),
                integer_null(Campaigns::LocalsNeeded),
                boolean(Campaigns::VerifiedOnly).default(false).to_owned(),
                // `count_only` or `not_eligible`.
                string(Campaigns::WithoutMemberCount)
                    .default("count_only")
                    .to_owned(),
                boolean(Campaigns::SealedNames).default(false).to_owned(),
                boolean(Campaigns::AutoRelease).default(false).to_owned(),
                text(Campaigns::ReachedMessage).default("").to_owned(),
                text(Campaigns::UnmetMessage).default("").to_owned(),
                timestamp_with_time_zone_null(Campaigns::ReachedAt),
                timestamp_with_time_zone_null(Campaigns::EndedAt),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CampaignLocals::Table)
                    .col(big_integer(CampaignLocals::CampaignId))
                    .col(big_integer(CampaignLocals::LocalId))
                    .col(big_integer_null(CampaignLocals::MemberCount))
                    .col(timestamp_with_time_zone_null(CampaignLocals::FrozenAt))
                    .col(big_integer_null(CampaignLocals::ProposedMemberCount))
                    .col(timestamp_with_time_zone_null(CampaignLocals::ProposedAt))
                    .col(string_null(CampaignLocals::ProposedBy))
                    .col(timestamp_with_time_zone_null(CampaignLocals::ReachedAt))
                    .primary_key(
                        Index::create()
                            .col(CampaignLocals::CampaignId)
                            .col(CampaignLocals::LocalId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignLocals::Table, CampaignLocals::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignLocals::Table, CampaignLocals::LocalId)
                            .to(Locals::Table, Locals::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        crate::add_columns(
            manager,
            Signatures::Table,
            [
                // `verified` or `not_member`, set by an officer of the signer's local.
                string_null(Signatures::Verification),
                string_null(Signatures::VerifiedBy),
                timestamp_with_time_zone_null(Signatures::VerifiedAt),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(MemberHashes::Table)
                    .col(big_integer(MemberHashes::LocalId))
                    .col(string(MemberHashes::Hash))
                    .col(timestamp_with_time_zone(MemberHashes::UploadedAt))
                    .primary_key(
                        Index::create()
                            .col(MemberHashes::LocalId)
                            .col(MemberHashes::Hash),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MemberHashes::Table, MemberHashes::LocalId)
                            .to(Locals::Table, Locals::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Announcements::Table)
                    .col(big_pk_auto(Announcements::Id))
                    .col(big_integer(Announcements::CampaignId))
                    .col(big_integer_null(Announcements::LocalId))
                    // `campaign` or `local:ID`: one announcement of a kind per scope.
                    .col(string(Announcements::ScopeKey))
                    // `reached` or `unmet`.
                    .col(string(Announcements::Kind))
                    .col(text(Announcements::Message))
                    .col(timestamp_with_time_zone(Announcements::CreatedAt))
                    .col(timestamp_with_time_zone_null(Announcements::ReleasedAt))
                    .col(string_null(Announcements::ReleasedBy))
                    // The last signature told, so a restart carries on after it.
                    .col(uuid_null(Announcements::Cursor))
                    .col(timestamp_with_time_zone_null(Announcements::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Announcements::Table, Announcements::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("announcements_one_per_scope")
                    .table(Announcements::Table)
                    .col(Announcements::CampaignId)
                    .col(Announcements::ScopeKey)
                    .col(Announcements::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
