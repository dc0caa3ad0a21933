//! The tally hub: each campaign's tally kept in memory after its first read, moved by
//! confirmations and withdrawals as they commit, and published to every open page as
//! server-sent events.
//!
//! Bursts are merged: a campaign emits at most one event per [`MERGE_WINDOW`], however
//! fast it is signed, and each event is serialised once into a shared buffer that every
//! subscriber's stream sends as it is. Fan-out costs no database work and no lock per
//! subscriber. A resync from the database every [`RESYNC`] catches what this process did
//! not see (another process's confirmations, a change that raced the first read).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use futures_util::{Stream, stream};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use tokio::sync::{Notify, broadcast, watch};

use crate::{
    entities::campaign,
    tally,
    views::{LocalCount, Tally},
};

/// At most one event per campaign per window.
pub const MERGE_WINDOW: Duration = Duration::from_millis(250);
/// How often a live campaign is re-read from the database.
pub const RESYNC: Duration = Duration::from_secs(5);
/// A comment line that keeps idle connections (and proxies) open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const KEEP_ALIVE_FRAME: &[u8] = b": keep-alive\n\n";

pub struct TallyHub {
    db: DatabaseConnection,
    live: Mutex<HashMap<i64, Arc<Live>>>,
    closing: watch::Sender<bool>,
    /// Tells this process's ETags from another's, or from an earlier run's.
    epoch: u64,
}

/// One campaign's tally as its subscribers know it.
struct Live {
    state: Mutex<State>,
    events: broadcast::Sender<Bytes>,
    wake: Notify,
}

struct State {
    version: u64,
    tally: Tally,
    moved_locals: BTreeSet<i64>,
    supporters_moved: bool,
    /// The tally as JSON, serialised once per version.
    json: Option<Bytes>,
}

/// What changed since the last event: the total and only the locals that moved.
#[derive(Serialize)]
struct Delta<'a> {
    version: u64,
    total: u64,
    by_local: Vec<LocalCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    community_supporters: Option<u64>,
    updated_at: &'a str,
}

#[derive(Serialize)]
struct Versioned<'a> {
    version: u64,
    #[serde(flatten)]
    tally: &'a Tally,
}

fn frame(event: &str, json: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(json.len() + event.len() + 16);
    frame.extend_from_slice(b"event: ");
    frame.extend_from_slice(event.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    frame.extend_from_slice(json);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Live {
    fn new(tally: Tally) -> Self {
        Self {
            state: Mutex::new(State {
                version: 1,
                tally,
                moved_locals: BTreeSet::new(),
                supporters_moved: false,
                json: None,
            }),
            events: broadcast::channel(64).0,
            wake: Notify::new(),
        }
    }

    /// The whole tally as JSON and its version.
    fn snapshot(&self) -> (Bytes, u64) {
        let mut state = lock(&self.state);
        let version = state.version;
        if let Some(json) = &state.json {
            return (json.clone(), version);
        }
        let versioned = Versioned {
            version,
            tally: &state.tally,
        };
        let json = Bytes::from(serde_json::to_vec(&versioned).unwrap_or_default());
        state.json = Some(json.clone());
        (json, version)
    }

    fn apply(&self, local_id: Option<i64>, delta: i64) {
        let mut state = lock(&self.state);
        let tally = &mut state.tally;
        let add = |n: u64| n.saturating_add_signed(delta);
        match local_id {
            Some(local_id) => {
                match tally
                    .by_local
                    .binary_search_by_key(&local_id, |c| c.local_id)
                {
                    Ok(i) => tally.by_local[i].count = add(tally.by_local[i].count),
                    // A local's first signature: its member count arrives with the resync.
                    Err(i) => tally.by_local.insert(
                        i,
                        LocalCount {
                            local_id,
                            count: add(0),
                            member_count: None,
                        },
                    ),
                }
                state.moved_locals.insert(local_id);
            }
            None => {
                tally.community_supporters = add(tally.community_supporters);
                state.supporters_moved = true;
            }
        }
        state.tally.total = add(state.tally.total);
        self.wake.notify_one();
    }

    /// Takes a fresh reading from the database and marks what differs as moved.
    fn replace(&self, fresh: Tally) {
        let mut state = lock(&self.state);
        let old = &state.tally;
        let moved: Vec<i64> = fresh
            .by_local
            .iter()
            .filter(|c| old.by_local.iter().find(|o| o.local_id == c.local_id) != Some(*c))
            .map(|c| c.local_id)
            .chain(
                old.by_local
                    .iter()
                    .filter(|o| !fresh.by_local.iter().any(|c| c.local_id == o.local_id))
                    .map(|o| o.local_id),
            )
            .collect();
        let supporters_moved = fresh.community_supporters != old.community_supporters;
        if moved.is_empty() && !supporters_moved && fresh.total == old.total {
            return;
        }
        state.moved_locals.extend(moved);
        state.supporters_moved |= supporters_moved;
        state.tally.total = fresh.total;
        state.tally.by_local = fresh.by_local;
        state.tally.community_supporters = fresh.community_supporters;
    }

    /// Closes the window: a new version and its delta event, if anything moved.
    fn take_delta(&self) -> Option<Bytes> {
        let mut state = lock(&self.state);
        if state.moved_locals.is_empty() && !state.supporters_moved {
            return None;
        }
        state.version += 1;
        state.json = None;
        state.tally.updated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let moved = std::mem::take(&mut state.moved_locals);
        let supporters_moved = std::mem::take(&mut state.supporters_moved);
        let state = &*state;
        // A local gone from the tally (all withdrawn) is sent as zero, so pages update.
        let moved_locals: Vec<LocalCount> = moved
            .iter()
            .map(|&local_id| {
                state
                    .tally
                    .by_local
                    .iter()
                    .find(|c| c.local_id == local_id)
                    .cloned()
                    .unwrap_or(LocalCount {
                        local_id,
                        count: 0,
                        member_count: None,
                    })
            })
            .collect();
        let delta = Delta {
            version: state.version,
            total: state.tally.total,
            by_local: moved_locals,
            community_supporters: supporters_moved.then_some(state.tally.community_supporters),
            updated_at: &state.tally.updated_at,
        };
        Some(frame(
            "delta",
            &serde_json::to_vec(&delta).unwrap_or_default(),
        ))
    }
}

/// The tally JSON of a campaign and its ETag.
pub struct Snapshot {
    pub json: Bytes,
    pub etag: String,
}

impl TallyHub {
    pub fn new(db: DatabaseConnection) -> Arc<Self> {
        let epoch = u64::try_from(Utc::now().timestamp_micros()).unwrap_or_default();
        Arc::new(Self {
            db,
            live: Mutex::new(HashMap::new()),
            closing: watch::channel(false).0,
            epoch,
        })
    }

    fn loaded(&self, campaign_id: i64) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&campaign_id)
            .cloned()
    }

    async fn live(&self, campaign: &campaign::Model) -> Result<Arc<Live>, DbErr> {
        if let Some(live) = self.loaded(campaign.id) {
            return Ok(live);
        }
        let tally = tally::campaign_tally(&self.db, campaign.id, campaign.goal, Utc::now()).await?;
        let mut map = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(live) = map.get(&campaign.id) {
            return Ok(live.clone());
        }
        let live = Arc::new(Live::new(tally));
        map.insert(campaign.id, live.clone());
        tokio::spawn(flush(
            self.db.clone(),
            campaign.id,
            campaign.goal,
            live.clone(),
            self.closing.subscribe(),
        ));
        Ok(live)
    }

    /// The campaign's tally as JSON, with an ETag that changes with every version.
    pub async fn snapshot(&self, campaign: &campaign::Model) -> Result<Snapshot, DbErr> {
        let (json, version) = self.live(campaign).await?.snapshot();
        Ok(Snapshot {
            json,
            etag: format!("\"{:x}-{version}\"", self.epoch),
        })
    }

    /// Moves a campaign's tally after a confirmation (+1) or a withdrawal (-1) has
    /// committed. A campaign nobody has read yet is left to its first read.
    pub fn record(&self, campaign_id: i64, local_id: Option<i64>, delta: i64) {
        if let Some(live) = self.loaded(campaign_id) {
            live.apply(local_id, delta);
        }
    }

    /// The event stream of one subscriber: a snapshot, then deltas, keep-alives, and a
    /// fresh snapshot if it fell behind. It ends when the hub closes.
    pub async fn subscribe(
        &self,
        campaign: &campaign::Model,
    ) -> Result<impl Stream<Item = Bytes> + Send + 'static, DbErr> {
        let live = self.live(campaign).await?;
        // Subscribe before taking the snapshot, so no event falls between them.
        let receiver = live.events.subscribe();
        let first = frame("snapshot", &live.snapshot().0);
        let closing = self.closing.subscribe();
        let start = (Some(first), receiver, live, closing);
        Ok(stream::unfold(
            start,
            |(first, mut receiver, live, mut closing)| async move {
                if let Some(first) = first {
                    return Some((first, (None, receiver, live, closing)));
                }
                if *closing.borrow() {
                    return None;
                }
                let next = tokio::select! {
                    event = receiver.recv() => match event {
                        Ok(frame) => frame,
                        Err(broadcast::error::RecvError::Lagged(_)) => frame("snapshot", &live.snapshot().0),
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    () = tokio::time::sleep(KEEP_ALIVE) => Bytes::from_static(KEEP_ALIVE_FRAME),
                    _ = closing.changed() => return None,
                };
                Some((next, (None, receiver, live, closing)))
            },
        ))
    }

    /// Ends every stream, so the server can drain, and stops the flush tasks.
    pub fn close(&self) {
        let _ = self.closing.send(true);
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// One live campaign's task: merges bursts into one event per window and resyncs.
async fn flush(
    db: DatabaseConnection,
    campaign_id: i64,
    goal: Option<i64>,
    live: Arc<Live>,
    mut closing: watch::Receiver<bool>,
) {
    let mut resync = tokio::time::interval(RESYNC);
    resync.tick().await;
    loop {
        tokio::select! {
            () = live.wake.notified() => tokio::time::sleep(MERGE_WINDOW).await,
            _ = resync.tick() => match tally::campaign_tally(&db, campaign_id, goal, Utc::now()).await {
                Ok(fresh) => live.replace(fresh),
                Err(err) => tracing::warn!(campaign_id, error = %err, "tally resync failed"),
            },
            _ = closing.changed() => return,
        }
        if let Some(event) = live.take_delta() {
            // No subscriber is not an error: the next one starts from a snapshot.
            let _ = live.events.send(event);
        }
    }
}
