//! The database layer under many writers at once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::harness::{Backend, TestApp};

/// SQLite lets one writer in at a time. Writers wait their turn in the process, first
/// come first served and holding no connection, so a reader finds one free however many
/// writers queue, and every writer gets through once the one ahead commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writers_queue_without_holding_the_readers_connections() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("turns.db").display());
    // Two connections: one for the writer in its turn, one left for everyone else.
    let db = rollcall::store::db::connect(&url, 2)
        .await
        .expect("the database opens");
    db.execute_unprepared("CREATE TABLE marks (id INTEGER PRIMARY KEY, writer INTEGER)")
        .await
        .expect("a table");

    // The first writer keeps its transaction open until the reader has read.
    let first = rollcall::store::db::begin_write(&db)
        .await
        .expect("the first turn");
    first
        .execute_unprepared("INSERT INTO marks (writer) VALUES (0)")
        .await
        .expect("the first write");

    let inside = Arc::new(AtomicUsize::new(0));
    let most_inside = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (1..40)
        .map(|writer| {
            let (db, inside, most_inside) = (db.clone(), inside.clone(), most_inside.clone());
            tokio::spawn(async move {
                let txn = rollcall::store::db::begin_write(&db).await?;
                let now_inside = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most_inside.fetch_max(now_inside, Ordering::SeqCst);
                txn.execute_unprepared(&format!("INSERT INTO marks (writer) VALUES ({writer})"))
                    .await?;
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
                txn.commit().await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Without the queue a waiting writer would sit on the second connection in SQLite's
    // busy handler, and this read would wait for the first writer, which waits for it.
    let read = tokio::time::timeout(
        Duration::from_secs(5),
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM marks",
        )),
    )
    .await
    .expect("a reader gets a connection while 39 writers queue")
    .expect("the read")
    .expect("a row");
    assert_eq!(
        read.try_get::<i64>("", "n").unwrap(),
        0,
        "nothing is committed yet"
    );

    first.commit().await.expect("the first commit");
    for writer in writers {
        writer
            .await
            .expect("the writer ran")
            .expect("the writer committed");
    }
    assert_eq!(
        most_inside.load(Ordering::SeqCst),
        1,
        "one writer at a time"
    );
    let count = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM marks",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(count, 40, "every writer's row");
}

/// PostgreSQL can end the server's connections: a restart, a failover, an administrator.
/// The pool checks a connection as it hands it out, so a signer who comes a moment later
/// meets a fresh connection, not an error. (Checking only connections that had rested
/// for a second saved no measurable time, and would have let a connection ended within
/// that second fail its next request: BENCHMARKS.md.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_postgresql_ended_are_replaced_before_a_signer_meets_them() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let local = app.a_local_of("joint-statement-demo", 0).await;
    let database = app.pg_database().expect("a PostgreSQL database");

    let admin = Database::connect(format!("{}/postgres", crate::harness::postgres_server()))
        .await
        .expect("PostgreSQL answers");
    // Each waits up to 5 s for the backend to have exited, so no signer below can reach
    // one that is still on its way out.
    let ended = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT pg_terminate_backend(pid, 5000) AS ended FROM pg_stat_activity \
                 WHERE datname = '{database}' AND backend_type = 'client backend'"
            ),
        ))
        .await
        .expect("the server's connections end");
    admin.close().await.ok();
    assert!(!ended.is_empty(), "the server held connections to end");
    assert!(
        ended
            .iter()
            .all(|row| row.try_get::<bool>("", "ended").unwrap_or(false)),
        "every one of them ended"
    );

    // Three signers in turn, each taking a connection from the pool (on PostgreSQL a sign
    // reads and writes on one), so more than one ended connection is met.
    for (n, name) in ["ana", "bea", "cruz"].iter().enumerate() {
        let response = app
            .sign_json(
                "joint-statement-demo",
                serde_json::json!({
                    "given_name": name,
                    "family_name": "Ruiz",
                    "email": format!("{name}.ruiz@example.org"),
                    "local_id": local,
                    "show_name": false,
                }),
            )
            .await;
        assert_eq!(response.status(), 202, "signer {n} meets no error");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM signatures WHERE family_name = 'Ruiz'")
            .await,
        3
    );
    app.finish().await;
}

/// Every SQLite connection the pool opens keeps one plan for a statement whatever is
/// bound to it. Without that SQLite prepares a statement with a bound `LIMIT` (every
/// `one()`) again on each execution, which cost a quarter of a confirmation's
/// instructions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connections_have_the_query_planner_stability_guarantee() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    let db = rollcall::store::db::connect(&url, 3)
        .await
        .expect("the database opens");
    let pool = db.get_sqlite_connection_pool();
    // Held at once, so each is a connection of its own.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(pool.acquire().await.expect("a connection"));
    }
    for conn in &mut held {
        assert!(
            rollcall::store::db::plans_are_stable(conn)
                .await
                .expect("the setting is read"),
            "a connection without the query planner stability guarantee"
        );
    }
}

/// The pages a resting SQLite connection cached are handed back when the server gives
/// memory back, and the connection still answers afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_resting_connections_hand_back_their_cached_pages() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("cache.db").display());
    let db = rollcall::store::db::connect(&url, 1)
        .await
        .expect("the database opens");
    // About 2 MiB of rows: more than the connection's 1 MiB cache holds.
    db.execute_unprepared(
        "CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO filler (body) SELECT printf('%.1000c', 'x') FROM n;",
    )
    .await
    .expect("the rows");
    let read = || async {
        db.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT SUM(LENGTH(body)) AS n FROM filler",
        ))
        .await
        .expect("a read")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("a sum")
    };
    assert_eq!(read().await, 2_000_000);
    let cached = || async {
        let mut conn = db
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .expect("the connection");
        rollcall::store::db::cached_page_bytes(&mut conn)
            .await
            .expect("the status")
    };
    let before = cached().await;
    assert!(
        before > 512 * 1024,
        "the read filled the cache: {before} bytes"
    );

    // A connection goes back to the pool on a task of its own: wait until it rests.
    tokio::time::timeout(Duration::from_secs(5), async {
        while db.get_sqlite_connection_pool().num_idle() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the connection rests again");
    rollcall::store::db::release_cached_pages(&db).await;
    let after = cached().await;
    assert!(
        after < before / 4,
        "the cache was handed back: {before} bytes before, {after} after"
    );
    assert_eq!(read().await, 2_000_000, "the connection still reads");
}
