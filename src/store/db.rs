//! Connecting to SQLite or PostgreSQL, and the one way to open a write transaction.

use std::{
    collections::HashMap,
    ffi::c_int,
    path::PathBuf,
    sync::{Arc, LazyLock, OnceLock, PoisonError},
    time::Duration,
};

use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, SqlErr, SqliteTransactionMode,
    Statement, StatementBuilder, TransactionOptions, TransactionTrait, Value,
    sqlx::{
        self,
        sqlite::{SqliteConnection, SqliteJournalMode, SqliteSynchronous},
    },
};
use tokio::sync::{Mutex, OwnedMutexGuard};

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
/// SIGTERM. The price: connections a crowd opened stay open until the server restarts
/// (each SQLite one caches up to 1 MiB of pages, handed back while it rests:
/// `release_cached_pages`).
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
                // Each connection's own page cache: 1 MiB instead of SQLite's 2,000 KiB. The
                // connections all cache the same hot pages, the kernel's page cache
                // holds the file for all of them, and they stay open (see above).
                .pragma("cache_size", "-1024")
        })
        // sqlx keeps one `after_connect` per pool: sea-orm sets none for SQLite.
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(async move { stable_plans(conn).await }))
        });
    Database::connect(options).await
}

/// Turns on SQLite's query planner stability guarantee for a new connection: one plan
/// for a statement, whatever values are bound to it. Without it SQLite (3.51, as
/// bundled) marks a statement whose `LIMIT` is a bound parameter (sea-orm's `one()`
/// writes `LIMIT ?` with 1 bound to it) to be prepared again whenever that parameter
/// is bound, in case the value changes the plan; sqlx binds every parameter on every
/// execution, so each such query was parsed and planned anew each time it ran, a
/// quarter of a confirmation's work (BENCHMARKS.md). With the
/// guarantee the statements sqlx keeps prepared stay prepared. sqlx has no option for it.
async fn stable_plans(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let on = planner_stability(conn, 1).await?;
    // A speed setting, not a safeguard: a SQLite without it still answers correctly, so
    // the connection is kept (an error here would fail every checkout of the pool).
    if let Err(code) = on {
        tracing::warn!(
            code,
            "SQLite refused the query planner stability guarantee; statements with a bound \
             LIMIT will be prepared again on each execution"
        );
    }
    Ok(())
}

/// Sets SQLite's query planner stability guarantee on a connection (`set` 1: on, 0:
/// off) or only reads it (-1): `Ok(())` when it is then on, else SQLite's answer (its
/// error code, or `SQLITE_OK` when the setting stayed off).
async fn planner_stability(
    conn: &mut SqliteConnection,
    set: c_int,
) -> Result<Result<(), c_int>, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let mut on: c_int = -1;
    // SAFETY: the handle is this connection's own, locked for the call; this setting
    // takes an int (1 on, 0 off, -1 unchanged) and a pointer to an int it writes the
    // resulting state to.
    let code = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            handle.as_raw_handle().as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut on as *mut c_int,
        )
    };
    Ok(if code == libsqlite3_sys::SQLITE_OK && on == 1 {
        Ok(())
    } else {
        Err(code)
    })
}

/// Hands back the pages SQLite keeps cached on the pool's resting connections (up to
/// 1 MiB each, see `connect`), for the server to call as it gives memory back: after a
/// crowd they would otherwise stay for good, as the connections do. A connection in use
/// is left alone, and its cache refills from the kernel's copy of the file as it is
/// read. On PostgreSQL the caches are PostgreSQL's: nothing to do.
pub async fn release_cached_pages(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let pool = db.get_sqlite_connection_pool();
    // Held until all are done, so that each resting connection is taken once.
    let mut resting = Vec::new();
    while let Some(conn) = pool.try_acquire() {
        resting.push(conn);
    }
    // Each goes back to the pool as soon as its pages are released.
    for mut conn in resting {
        let released = sqlx::query("PRAGMA shrink_memory")
            .persistent(false)
            .execute(&mut *conn)
            .await;
        if let Err(err) = released {
            tracing::warn!(error = %err, "could not release a connection's cached pages");
        }
    }
}

/// Whether a SQLite connection has the query planner stability guarantee on (see
/// `stable_plans`): for the tests.
#[doc(hidden)]
pub async fn plans_are_stable(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    Ok(planner_stability(conn, -1).await?.is_ok())
}

/// How long a write waits for its turn on SQLite before it is refused, as long as
/// SQLite's own busy timeout.
const TURN_TIMEOUT: Duration = Duration::from_secs(10);

/// One queue of writers per SQLite file in this process: SQLite lets one writer in at a
/// time, and without a queue the others wait in its busy handler, which sleeps and polls
/// (1 ms, then up to 100 ms a step) while holding a pooled connection. Under a flood the
/// lock then sits free between a writer leaving and a sleeper waking, and the sleepers
/// take every connection the readers need. In the queue writers wait their turn first
/// come, first served, holding nothing, and the next begins the moment the last commits.
fn sqlite_writers(db: &DatabaseConnection) -> Option<Arc<Mutex<()>>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    static QUEUES: LazyLock<std::sync::Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    let mut queues = QUEUES.lock().unwrap_or_else(PoisonError::into_inner);
    // Looked up by reference: every write comes here, and only a new file's first
    // allocates its key.
    if let Some(queue) = queues.get(file) {
        return Some(queue.clone());
    }
    Some(queues.entry(file.to_owned()).or_default().clone())
}

/// The turn to write to the database: on SQLite, the front of this file's queue (held
/// until dropped); on PostgreSQL, which takes writers side by side, nothing to wait for.
pub async fn write_turn(db: &DatabaseConnection) -> Result<Option<OwnedMutexGuard<()>>, DbErr> {
    let Some(writers) = sqlite_writers(db) else {
        return Ok(None);
    };
    match tokio::time::timeout(TURN_TIMEOUT, writers.lock_owned()).await {
        Ok(turn) => Ok(Some(turn)),
        Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
    }
}

/// A transaction that writes, holding the writers' turn until it commits or is dropped.
/// It is a connection like the transaction it holds.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

/// Begins a transaction that will write. On SQLite it waits its turn in the process's
/// queue of writers, then begins IMMEDIATE: a deferred one that reads and then writes
/// fails at once when another writer got there first.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = write_turn(db).await?;
    let mut options = TransactionOptions::default();
    if db.get_database_backend() == DbBackend::Sqlite {
        options.sqlite_transaction_mode = Some(SqliteTransactionMode::Immediate);
    }
    Ok(WriteTxn {
        txn: db.begin_with_options(options).await?,
        _turn: turn,
    })
}

/// A write's transaction begun before its reads, where reading inside it costs nothing:
/// on PostgreSQL, so a request that reads and then writes checks out one connection
/// instead of two (the pool pings a connection as it hands it out and as it takes it
/// back, a round trip each). On SQLite, `None`: there the transaction holds the one
/// turn to write that every writer in the process waits for, so the reads go before it
/// and `begin_write` follows them.
pub async fn begin_write_before_reads(db: &DatabaseConnection) -> Result<Option<WriteTxn>, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        return Ok(None);
    }
    begin_write(db).await.map(Some)
}

/// The SQL of a statement run on every sign or confirmation, written by sea-query once for
/// each database and kept: writing the token lookup anew (63 aliased columns) took a
/// tenth of a confirmation's work. Its text must depend on
/// the query's shape alone; each run binds its own values, given in the order the SQL
/// takes them. Debug builds (the tests) write the query afresh on every run as well, and
/// panic unless the kept SQL and the values given are exactly what sea-query wrote.
pub struct WrittenOnce {
    sqlite: OnceLock<String>,
    postgres: OnceLock<String>,
}

impl WrittenOnce {
    pub const fn new() -> Self {
        Self {
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// The statement for `backend`: `query` writes it with this run's values (called
    /// only the first time, in release builds), and `values` are those values in order.
    pub fn statement<S: StatementBuilder>(
        &self,
        backend: DbBackend,
        query: impl Fn() -> S,
        values: Vec<Value>,
    ) -> Statement {
        let kept = match backend {
            DbBackend::Sqlite => &self.sqlite,
            DbBackend::Postgres => &self.postgres,
            _ => return backend.build(&query()),
        };
        let sql = kept.get_or_init(|| backend.build(&query()).sql);
        let statement = Statement::from_sql_and_values(backend, sql.clone(), values);
        if cfg!(debug_assertions) {
            let written = backend.build(&query());
            assert_eq!(
                statement.sql, written.sql,
                "a statement written once changed its SQL"
            );
            assert_eq!(
                statement.values, written.values,
                "the values given are not those the SQL takes, in its order"
            );
        }
        statement
    }
}

impl Default for WrittenOnce {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether the database refused a write because a unique index already holds the value.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the database answers at all (`/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// The bytes of cached pages a SQLite connection holds: for the tests.
#[doc(hidden)]
pub async fn cached_page_bytes(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let (mut current, mut highest): (c_int, c_int) = (0, 0);
    // SAFETY: the handle is this connection's own, locked for the call; the status is
    // written to the two ints, and not reset.
    let code = unsafe {
        libsqlite3_sys::sqlite3_db_status(
            handle.as_raw_handle().as_ptr(),
            libsqlite3_sys::SQLITE_DBSTATUS_CACHE_USED,
            &mut current,
            &mut highest,
            0,
        )
    };
    if code != libsqlite3_sys::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!(
            "sqlite3_db_status failed ({code})"
        )));
    }
    Ok(i64::from(current))
}

#[cfg(test)]
mod tests {
    use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait};

    use super::WrittenOnce;
    use crate::entities::campaign;

    fn by_slug(slug: &str) -> sea_orm::sea_query::SelectStatement {
        campaign::Entity::find()
            .filter(campaign::Column::Slug.eq(slug))
            .into_query()
    }

    #[test]
    fn a_statement_written_once_is_the_one_sea_query_writes_each_time() {
        let written = WrittenOnce::new();
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            for slug in ["pay-parity", "safe-staffing"] {
                let statement = written.statement(backend, || by_slug(slug), vec![slug.into()]);
                assert_eq!(statement, backend.build(&by_slug(slug)));
            }
        }
    }

    #[test]
    #[cfg_attr(not(debug_assertions), ignore = "the check runs in debug builds only")]
    #[should_panic(expected = "the values given are not those the SQL takes")]
    fn values_that_are_not_the_queries_own_are_caught_in_tests() {
        WrittenOnce::new().statement(
            DbBackend::Sqlite,
            || by_slug("pay-parity"),
            vec!["safe-staffing".into()],
        );
    }
}
