//! Rollcall's schema, one file a migration, run at start and by `rollcall migrate`.

use sea_orm_migration::prelude::*;

mod m20261126_000001_initial;
mod m20261127_000002_public_view;
mod m20261127_000003_abuse;
mod m20261128_000004_accounts;
mod m20261129_000005_pledges;
mod m20261130_000006_outbox_waiting;
mod m20261207_000007_officer_safety;
mod m20261207_000008_access_revocation;
mod m20261207_000009_public_limits;
mod m20261207_000010_sign_candidates;

pub struct Migrator;

/// Adds columns to a table one `ALTER TABLE` each: SQLite adds no more than one at a time.
pub(crate) async fn add_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = ColumnDef>,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    for column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table.clone())
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261127_000002_public_view::Migration),
            Box::new(m20261127_000003_abuse::Migration),
            Box::new(m20261128_000004_accounts::Migration),
            Box::new(m20261129_000005_pledges::Migration),
            Box::new(m20261130_000006_outbox_waiting::Migration),
            Box::new(m20261207_000007_officer_safety::Migration),
            Box::new(m20261207_000008_access_revocation::Migration),
            Box::new(m20261207_000009_public_limits::Migration),
            Box::new(m20261207_000010_sign_candidates::Migration),
        ]
    }
}
