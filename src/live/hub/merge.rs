//! Each live campaign's task: merges a burst of moves into one event per window, and
//! rereads the campaign now and then so the counts never drift from the database.

use super::*;

/// The merge window of a campaign `subscribers` watch.
pub(super) fn window_for(subscribers: usize) -> Duration {
    MERGE_WINDOW.max(Duration::from_secs_f64(
        subscribers as f64 / FAN_OUT_PER_SECOND,
    ))
}

/// One live campaign's task: merges bursts into one event per window, re-reads the
/// campaign when another process moved it and every [`RESYNC`], and rebuilds its series.
pub(super) async fn flush(
    db: DatabaseConnection,
    campaign_id: i64,
    live: Arc<Live>,
    clock: Clock,
    mut closing: watch::Receiver<bool>,
    hub: Weak<TallyHub>,
) {
    let mut clock_moves = clock.moves();
    let mut resync = tokio::time::interval(RESYNC);
    let mut rebuild = tokio::time::interval(SERIES_EVERY);
    resync.tick().await;
    // When the last event began to go out: the next waits a whole window after it,
    // whatever moved the tally.
    let mut last_event: Option<tokio::time::Instant> = None;
    // The rebuild's first tick is at once: the series is built as soon as the campaign
    // is live.
    loop {
        tokio::select! {
            () = live.wake.notified() => tokio::time::sleep(live.window() / 2).await,
            () = live.stale.notified() => match tally::counts(&db, campaign_id).await {
                Ok(counts) => live.replace(counts, None),
                Err(err) => tracing::warn!(campaign_id, error = %err, "tally re-read failed"),
            },
            _ = resync.tick() => if hub.upgrade().is_none_or(|hub| hub.evict_if_idle(campaign_id, &live)) {
                return;
            } else {
                match reread(&db, campaign_id).await {
                    Ok((counts, source)) => live.replace(counts, source),
                    Err(err) => tracing::warn!(campaign_id, error = %err, "tally resync failed"),
                }
            },
            _ = rebuild.tick() => match series::build(&db, campaign_id, Utc::now()).await {
                Ok(series) => lock(&live.state).series = series,
                Err(err) => tracing::warn!(campaign_id, error = %err, "series rebuild failed"),
            },
            // A test moved the clock: the cadence may have ticked.
            _ = clock_moves.changed() => {}
            _ = closing.changed() => return,
        }
        if let Some(last) = last_event {
            tokio::time::sleep_until(last + live.window()).await;
        }
        if let Some(event) = live.take_event(clock.now()) {
            last_event = Some(tokio::time::Instant::now());
            live.publish_paced(event).await;
        }
    }
}

/// The counts, and the campaign with its signing locals (None if it was deleted).
pub(super) async fn reread(
    db: &DatabaseConnection,
    campaign_id: i64,
) -> Result<(Counts, Option<(campaign::Model, Directory)>), DbErr> {
    let counts = tally::counts(db, campaign_id).await?;
    let source = match campaign::Entity::find_by_id(campaign_id).one(db).await? {
        Some(campaign) => {
            let directory = campaigns::directory(db, &campaign).await?;
            Some((campaign, directory))
        }
        None => None,
    };
    Ok((counts, source))
}
