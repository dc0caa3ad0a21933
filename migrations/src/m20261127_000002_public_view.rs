//! What the public sees: the smallest group a campaign shows on its own, and an index for
//! the public list of names and the signatures-over-time series.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    SmallestGroup,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    CampaignId,
    Status,
    ShowName,
    ConfirmedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // "2 of 9" names people to an employer: locals with fewer signers than this are
        // folded into "other" in everything the public sees.
        manager
            .alter_table(
                Table::alter()
                    .table(Campaigns::Table)
                    .add_column(integer(Campaigns::SmallestGroup).default(5))
                    .to_owned(),
            )
            .await?;
        // Serves both the newest-first public names (status, show_name equal) and the
        // series, which reads confirmed_at of every confirmed signature from the index.
        manager
            .create_index(
                Index::create()
                    .name("signatures_campaign_status_shown_confirmed")
                    .table(Signatures::Table)
                    .col(Signatures::CampaignId)
                    .col(Signatures::Status)
                    .col(Signatures::ShowName)
                    .col(Signatures::ConfirmedAt)
                    .to_owned(),
            )
            .await
    }
}
