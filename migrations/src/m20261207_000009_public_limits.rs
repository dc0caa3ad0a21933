//! Limits on what the public surface keeps: mail the relay refused for good, or that
//! could not go before its link expired, is marked failed (`failed_at`) and emptied, so
//! the outbox holds no list of who signed; the worker's index leaves failed mail out.

use sea_orm_migration::{prelude::*, schema::timestamp_with_time_zone_null};

#[derive(DeriveIden)]
enum Outbox {
    Table,
    SentAt,
    FailedAt,
    NextAttemptAt,
    ClaimedUntil,
    Kind,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The worker's index of mail still waiting (see 000006), with or without failed mail.
fn waiting_index(name: &str, without_failed: bool) -> IndexCreateStatement {
    let mut condition = Expr::col(Outbox::SentAt).is_null();
    if without_failed {
        condition = condition.and(Expr::col(Outbox::FailedAt).is_null());
    }
    Index::create()
        .name(name)
        .table(Outbox::Table)
        .col(Outbox::SentAt)
        .col(Outbox::NextAttemptAt)
        .col(Outbox::ClaimedUntil)
        .col(Outbox::Kind)
        .and_where(condition)
        .to_owned()
}

async fn drop_index(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(Outbox::Table).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_columns(
            manager,
            Outbox::Table,
            [timestamp_with_time_zone_null(Outbox::FailedAt)],
        )
        .await?;
        // The new index first, under its own name, then the old one goes.
        manager
            .create_index(waiting_index("outbox_waiting_unfailed", true))
            .await?;
        drop_index(manager, "outbox_waiting").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(waiting_index("outbox_waiting", false))
            .await?;
        drop_index(manager, "outbox_waiting_unfailed").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::FailedAt)
                    .to_owned(),
            )
            .await
    }
}
