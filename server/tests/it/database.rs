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
