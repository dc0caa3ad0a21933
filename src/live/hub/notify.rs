//! Across processes: a process that moved a tally tells the others on PostgreSQL's
//! `LISTEN`/`NOTIFY` channel, and each rereads the campaigns named.

use super::*;

/// The PostgreSQL channel on which processes tell each other what moved.
pub(super) const CHANNEL: &str = "rollcall_tally";

/// Tells the other processes which campaigns this one moved: one NOTIFY per window at
/// most, sent after the confirmations committed.
pub(super) async fn announce(hub: Weak<TallyHub>, mut closing: watch::Receiver<bool>) {
    loop {
        let Some(strong) = hub.upgrade() else { return };
        let woken = async { strong.moved_wake.notified().await };
        tokio::select! {
            () = woken => {}
            _ = closing.changed() => return,
        }
        drop(strong);
        tokio::time::sleep(MERGE_WINDOW).await;
        let Some(hub) = hub.upgrade() else { return };
        let ids = std::mem::take(&mut *lock(&hub.moved));
        if ids.is_empty() {
            continue;
        }
        if let Err(err) = notify(&hub.db, hub.epoch, &ids).await {
            // The others catch up at their next resync.
            tracing::warn!(error = %err, "could not notify the other processes");
        }
    }
}

pub(super) async fn notify(
    db: &DatabaseConnection,
    epoch: u64,
    ids: &BTreeSet<i64>,
) -> Result<(), DbErr> {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [
            CHANNEL.into(),
            format!("{epoch:x}:{}", list.join(",")).into(),
        ],
    );
    db.execute_raw(statement).await.map(|_| ())
}

/// Tells every serving process that a campaign's counts changed outside them (from the
/// command line): on PostgreSQL at once, on SQLite at its next resync.
pub async fn announce_change(db: &DatabaseConnection, campaign_id: i64) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    notify(db, 0, &BTreeSet::from([campaign_id])).await
}

/// Reads a notification's payload: the sender's epoch and the campaigns it moved.
pub(super) fn parse_payload(payload: &str) -> Option<(u64, Vec<i64>)> {
    let (epoch, ids) = payload.split_once(':')?;
    let epoch = u64::from_str_radix(epoch, 16).ok()?;
    let ids = ids.split(',').filter_map(|id| id.parse().ok()).collect();
    Some((epoch, ids))
}

/// Listens for the other processes' notifications on the pool sea-orm already uses, and
/// re-reads what they moved. On a lost connection sqlx reconnects; everything live is
/// then re-read, since notifications may have been missed meanwhile.
pub(super) async fn listen(hub: Weak<TallyHub>, mut closing: watch::Receiver<bool>) {
    let mut listener = loop {
        let Some(strong) = hub.upgrade() else { return };
        let pool = strong.db.get_postgres_connection_pool().clone();
        drop(strong);
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match connected.await {
            Ok(listener) => break listener,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for other processes; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = closing.changed() => return,
                }
            }
        }
    };
    loop {
        let received = tokio::select! {
            received = listener.try_recv() => received,
            _ = closing.changed() => return,
        };
        let Some(hub) = hub.upgrade() else { return };
        match received {
            Ok(Some(notification)) => {
                if let Some((epoch, ids)) = parse_payload(notification.payload())
                    && epoch != hub.epoch
                {
                    hub.moved_elsewhere(ids);
                }
            }
            Ok(None) => {
                let ids: Vec<i64> = lock(&hub.live).keys().copied().collect();
                hub.moved_elsewhere(ids);
            }
            Err(err) => {
                tracing::warn!(error = %err, "lost the notification listener; retrying");
                drop(hub);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
