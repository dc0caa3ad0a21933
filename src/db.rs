//! Connecting to SQLite or PostgreSQL, and the one way to open a write transaction.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Opens the pool. SQLite gets WAL, a busy timeout and enforced foreign keys, and
/// the file is created when missing. Connections idle for 20 s are closed, and SQLite's
/// are replaced after a minute however busy, so the memory a crowd took (each SQLite
/// connection keeps up to 2 MB of pages) goes back when it leaves: the pool hands out
/// its idle connections in turn, so the background workers' trickle of queries alone
/// would keep every one of them open.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    // (An in-memory database lives only as long as its connection.)
    if url.starts_with("sqlite:") && !url.contains("memory") {
        options.max_lifetime(Duration::from_secs(60));
    }
    options
        .max_connections(max_connections)
        .idle_timeout(Duration::from_secs(20))
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
