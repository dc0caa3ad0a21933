//! What keeps officers' actions from telling who signed: paper lines whose address had
//! already signed wait in a review list for the campaign's organizers (the line counts
//! meanwhile, so the officer sees the same as for a fresh address); a per-officer daily
//! allowance of member-list uploads; and the member-list batches already applied to
//! sealed pledges, one row a batch window, so that only one process applies each.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PaperCollisions {
    Table,
    Id,
    CampaignId,
    SignatureId,
    EarlierId,
    EnteredBy,
    EnteredAt,
    ResolvedAt,
    ResolvedBy,
    Resolution,
}

#[derive(DeriveIden)]
enum OfficerAllowances {
    Table,
    Actor,
    Action,
    DayStart,
    Count,
}

#[derive(DeriveIden)]
enum MemberListBatches {
    Table,
    WindowStart,
    RanAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaperCollisions::Table)
                    .col(big_pk_auto(PaperCollisions::Id))
                    .col(big_integer(PaperCollisions::CampaignId))
                    // The paper line's own signature, counted until resolved.
                    .col(uuid(PaperCollisions::SignatureId))
                    // The signature that already had the address.
                    .col(uuid(PaperCollisions::EarlierId))
                    .col(string(PaperCollisions::EnteredBy))
                    .col(timestamp_with_time_zone(PaperCollisions::EnteredAt))
                    .col(timestamp_with_time_zone_null(PaperCollisions::ResolvedAt))
                    .col(string_null(PaperCollisions::ResolvedBy))
                    // `kept` or `removed`.
                    .col(string_null(PaperCollisions::Resolution))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaperCollisions::Table, PaperCollisions::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("paper_collisions_open")
                    .table(PaperCollisions::Table)
                    .col(PaperCollisions::CampaignId)
                    .col(PaperCollisions::ResolvedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OfficerAllowances::Table)
                    .col(string(OfficerAllowances::Actor))
                    .col(string(OfficerAllowances::Action))
                    .col(timestamp_with_time_zone(OfficerAllowances::DayStart))
                    .col(integer(OfficerAllowances::Count))
                    .primary_key(
                        Index::create()
                            .col(OfficerAllowances::Actor)
                            .col(OfficerAllowances::Action)
                            .col(OfficerAllowances::DayStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MemberListBatches::Table)
                    .col(timestamp_with_time_zone(MemberListBatches::WindowStart).primary_key())
                    .col(timestamp_with_time_zone(MemberListBatches::RanAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MemberListBatches::Table.into_iden(),
            OfficerAllowances::Table.into_iden(),
            PaperCollisions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
