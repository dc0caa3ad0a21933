//! Connecting to SQLite or PostgreSQL, and the one way to open a write transaction.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Opens the pool. SQLite gets WAL, a busy timeout and enforced foreign keys, and
/// the file is created when missing.
///
/// Connections are never closed for idleness or age: either setting starts sqlx's pool
/// maintenance task, and in sqlx-core 0.9.0 (the newest on the registry) a race between
/// a connection's return and another's checkout can wrap the pool's idle count below
/// zero, after which that task spins on one of the server's two threads for good (sqlx
/// issue #3645, fixed upstream by pull request #4289 but not yet released). The
/// ten-minute record day on SQLite hit it: a thread at 100% inside that task (seen in
/// gdb), every query timing out on the pool from then on, and the process deaf to
/// SIGTERM. The price: connections a crowd opened stay open (each SQLite one with up to
/// 2 MB of cached pages) until the server restarts.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(None::<Duration>)
        .max_lifetime(None::<Duration>)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Begins a transaction that will write. On SQLite it begins IMMEDIATE: a deferred one
/// that reads and then writes fails at once when another writer got there first.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let mut options = TransactionOptions::default();
    if db.get_database_backend() == DbBackend::Sqlite {
        options.sqlite_transaction_mode = Some(SqliteTransactionMode::Immediate);
    }
    db.begin_with_options(options).await
}

/// Whether the database refused a write because a unique index already holds the value.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the database answers at all (`/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
