//! The minimal SQLite program: one transaction per signature, the same writes as the
//! server's, the yardstick a sign or confirm rate is set beside.

use super::*;

/// A sign's or a confirm's writes straight to SQLite, as fast as they go.
pub(super) async fn sqlite_yardstick(
    file: &std::path::Path,
    what: &str,
    clients: usize,
    seconds: u64,
    json: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let url = format!("sqlite://{}", file.display());
    let db = rollcall::store::db::connect(&url, clients as u32).await?;
    if what == "confirm" {
        // The pending signatures to confirm, prepared beforehand as the server's are:
        // more than any run takes, and a transaction that finds none fails the run.
        db.execute_unprepared(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 300000) \
             INSERT INTO signatures (id, campaign_id, local_id, given_name, family_name, email, canonical_email, language, text_id, show_name, status, confirm_token_hash, confirm_expires_at, created_at) \
             SELECT randomblob(16), 1, 1 + n % 300, 'Pending', 'Signer', 'p@example.org', 'pending-' || n || '-' || hex(randomblob(8)) || '@example.org', 'en', 1, 0, 'pending', hex(randomblob(32)), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '+7 days'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM s",
        )
        .await?;
    }
    let statements: Vec<&'static str> = match what {
        "sign" => vec![
            "SELECT id FROM signatures WHERE campaign_id = 1 AND canonical_email = 'yardstick-' || abs(random()) || '@example.org'",
            "INSERT INTO signatures (id, campaign_id, local_id, given_name, family_name, email, canonical_email, language, text_id, show_name, status, confirm_token_hash, confirm_expires_at, created_at, ip) \
             VALUES (randomblob(16), 1, 1 + abs(random()) % 300, 'Bench', 'Signer', 'y@example.org', 'yardstick-' || hex(randomblob(12)) || '@example.org', 'en', 1, 0, 'pending', hex(randomblob(32)), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '+7 days'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), '10.0.0.1')",
            "INSERT INTO outbox (kind, recipient, subject, body_text, body_html, attempts, next_attempt_at, created_at) \
             VALUES ('confirm', 'y@example.org', 'Please confirm your signature', printf('%.900c', 'x'), printf('%.1800c', 'x'), 0, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))",
        ],
        "confirm" => vec![
            "UPDATE signatures SET status = 'confirmed', confirmed_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), confirm_token_hash = NULL \
             WHERE id = (SELECT id FROM signatures WHERE campaign_id = 1 AND status = 'pending' LIMIT 1) AND status = 'pending'",
            "INSERT INTO local_tallies (campaign_id, local_id, shard, count) VALUES (1, 1 + abs(random()) % 300, abs(random()) % 8, 1) \
             ON CONFLICT (campaign_id, local_id, shard) DO UPDATE SET count = local_tallies.count + 1",
            "INSERT INTO outbox (kind, recipient, subject, body_text, body_html, attempts, next_attempt_at, created_at) \
             VALUES ('receipt', 'y@example.org', 'Your signature is confirmed', printf('%.1500c', 'x'), printf('%.3000c', 'x'), 0, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))",
        ],
        other => anyhow::bail!("--what is sign or confirm, not {other:?}"),
    };
    let confirming = what == "confirm";
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let (db, done, statements) = (db.clone(), done.clone(), statements.clone());
        tasks.spawn(async move {
            while Instant::now() < deadline {
                let txn = rollcall::store::db::begin_write(&db).await?;
                for (i, sql) in statements.iter().enumerate() {
                    let result = txn
                        .execute_raw(Statement::from_string(DbBackend::Sqlite, *sql))
                        .await?;
                    // A confirm's first statement confirms one signature, or the run
                    // has run dry and would only look fast.
                    if confirming && i == 0 && result.rows_affected() != 1 {
                        return Err(sea_orm::DbErr::Custom(
                            "no pending signature left to confirm".into(),
                        ));
                    }
                }
                txn.commit().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, sea_orm::DbErr>(())
        });
    }
    while let Some(finished) = tasks.join_next().await {
        finished??;
    }
    let per_second = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("sqlite yardstick, {what}: {per_second:.0} transactions/s with {clients} clients");
    if let Some(path) = json {
        let line = serde_json::json!({"scenario": what, "label": "sqlite-yardstick", "per_second": per_second});
        append_json(path, &line.to_string())?;
    }
    db.close().await?;
    Ok(())
}
