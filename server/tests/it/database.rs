//! The database layer under many writers at once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sea_orm::{ConnectionTrait, Statement};

/// SQLite lets one writer in at a time. Writers wait their turn in the process, first
/// come first served and holding no connection, so a reader finds one free however many
/// writers queue, and every writer gets through once the one ahead commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writers_queue_without_holding_the_readers_connections() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("turns.db").display());
    // Two connections: one for the writer in its turn, one left for everyone else.
    let db = rollcall::db::connect(&url, 2)
        .await
        .expect("the database opens");
    db.execute_unprepared("CREATE TABLE marks (id INTEGER PRIMARY KEY, writer INTEGER)")
        .await
        .expect("a table");

    // The first writer keeps its transaction open until the reader has read.
    let first = rollcall::db::begin_write(&db)
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
                let txn = rollcall::db::begin_write(&db).await?;
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

/// On SQLite the writers leave the WAL to the checkpointer: a commit does not copy it
/// back into the database file until it is ten times SQLite's default, and a checkpoint
/// beside the writers copies all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoints_happen_beside_the_writers() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("wal.db").display());
    let db = rollcall::db::connect(&url, 2)
        .await
        .expect("the database opens");
    let setting = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "PRAGMA wal_autocheckpoint",
        ))
        .await
        .expect("the pragma reads")
        .expect("a row");
    assert_eq!(setting.try_get_by_index::<i64>(0).unwrap(), 10_000);

    db.execute_unprepared("CREATE TABLE pages (id INTEGER PRIMARY KEY, filler BLOB)")
        .await
        .expect("a table");
    // About 3,000 pages of WAL: past SQLite's default of 1,000, so a writer would have
    // copied them back itself had the setting not reached every connection.
    for _ in 0..30 {
        let txn = rollcall::db::begin_write(&db).await.expect("a turn");
        txn.execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
             INSERT INTO pages (filler) SELECT randomblob(4000) FROM n",
        )
        .await
        .expect("rows");
        txn.commit().await.expect("a commit");
    }
    let done = rollcall::db::checkpoint(&db)
        .await
        .expect("a checkpoint")
        .expect("SQLite has a WAL");
    assert!(
        done.log > 3_000,
        "the writers left the WAL to the checkpointer: {done:?}"
    );
    assert_eq!(
        done.copied, done.log,
        "nothing was reading or writing: all of it copied"
    );
    db.close().await.expect("the pool closes");
}
