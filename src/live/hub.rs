//! The tally hub: each campaign's tally kept in memory after its first read, moved by
//! confirmations and withdrawals as they commit, and published to every open page as
//! server-sent events.
//!
//! Bursts are merged: a campaign emits at most one event per window, however fast it is
//! signed, and each event is serialised once into a shared buffer that every
//! subscriber's stream sends as it is. Fan-out costs no database work and no lock per
//! subscriber, but each event is still one write per subscriber: the window is
//! [`MERGE_WINDOW`] for up to [`FAN_OUT_PER_SECOND`] / 4 subscribers and grows with the
//! crowd beyond, so a campaign costs at most that many writes a second (20,000 watchers
//! see the count move every half second, 100,000 every two and a half). The fan-out is
//! paced: subscribers are dealt into [`SHARDS`] groups and each event reaches one group
//! after another over the second half of the window, so tens of thousands of streams
//! waking at once never queue ahead of the pages and API requests the same threads
//! serve. What the public sees is worked out from the counts by
//! [`tally::Cadenced`], so small locals stay folded in the stream as on the page, and
//! the groups move only on the campaign's cadence while the total moves live.
//!
//! Several processes on one PostgreSQL database: each tells the others which campaigns
//! it moved with one `NOTIFY` per window (outside any transaction), and each re-reads a
//! campaign another process moved. A resync every [`RESYNC`] catches anything missed.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc, Mutex, PoisonError, Weak,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, stream};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement,
    sqlx::postgres::PgListener,
};
use serde::Serialize;
use tokio::sync::{Notify, broadcast, watch};

use crate::{
    domain::clock::Clock,
    domain::{CampaignId, LocalId},
    entities::campaign,
    store::campaigns,
    store::series,
    store::tally::{self, Cadenced, Counts, Directory, Publication},
    views::{LocalCount, Series, Tally, TallyEvent, UnionCount},
};

/// At most one event per campaign per window: changes are merged for its first half
/// and the event is dealt out to the subscribers over the second. This is the shortest
/// window, for a campaign with a modest crowd.
pub const MERGE_WINDOW: Duration = Duration::from_millis(250);

/// Events times subscribers, per campaign per second, beyond which the window grows.
/// Measured on two cores: 19,000 subscribers at four events a second (76,000 writes)
/// took half the server's time in the kernel's TCP sends alone.
const FAN_OUT_PER_SECOND: f64 = 40_000.0;

/// The groups an event reaches one after another.
const SHARDS: usize = 16;

/// How often a live campaign is re-read from the database.
pub const RESYNC: Duration = Duration::from_secs(5);

/// How often the signatures-over-time series is rebuilt.
pub const SERIES_EVERY: Duration = Duration::from_secs(60);

/// A campaign nobody has read or watched for this long leaves memory (and stops being
/// re-read); its next reader loads it again.
pub const IDLE: Duration = Duration::from_secs(600);

pub struct TallyHub {
    db: DatabaseConnection,
    /// What the breakdown's cadence is counted by.
    clock: Clock,
    live: Mutex<HashMap<i64, Arc<Live>>>,
    closing: watch::Sender<bool>,
    /// Tells this process's ETags and notifications from another's.
    epoch: u64,
    /// Campaigns this process moved since its last NOTIFY (PostgreSQL only).
    moved: Mutex<BTreeSet<i64>>,
    moved_wake: Notify,
    /// The hub itself, for the tasks it starts.
    me: Weak<TallyHub>,
    /// Held while a campaign is first read.
    loading: tokio::sync::Mutex<()>,
    /// The ids of live campaigns by slug, so reading a tally needs no query at all.
    slugs: Mutex<HashMap<String, i64>>,
}

/// One campaign's tally as its subscribers know it.
struct Live {
    state: Mutex<State>,
    /// One channel per group of subscribers; a new subscriber joins the next group.
    shards: [broadcast::Sender<Event>; SHARDS],
    next_shard: AtomicUsize,
    /// A local change to merge into the next event.
    wake: Notify,
    /// Another process moved this campaign: re-read it.
    stale: Notify,
}

struct State {
    version: u64,
    campaign: campaign::Model,
    directory: Arc<Directory>,
    counts: Counts,
    /// The public tally as it moves: the total live, the groups on the cadence.
    cadenced: Cadenced,
    /// What the public saw last: every event is the difference from it.
    published: Tally,
    series: Series,
    /// The published tally as JSON, serialised once per version, and its gzip.
    json: Option<Bytes>,
    gzip: Option<Bytes>,
    /// When a reader last asked for this campaign.
    touched: std::time::Instant,
}

/// A frame and the version it brings a subscriber to.
type Event = (u64, Bytes);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    fn publish(&mut self, now: DateTime<Utc>) -> Tally {
        self.cadenced.publish(
            &self.counts,
            &self.directory,
            Publication::of(&self.campaign),
            now,
        )
    }
}

impl Live {
    fn new(
        campaign: campaign::Model,
        directory: Directory,
        counts: Counts,
        series: Series,
        now: DateTime<Utc>,
    ) -> Self {
        let mut cadenced = Cadenced::default();
        let published = cadenced.publish(&counts, &directory, Publication::of(&campaign), now);
        Self {
            state: Mutex::new(State {
                version: 1,
                campaign,
                directory: Arc::new(directory),
                counts,
                cadenced,
                published,
                series,
                json: None,
                gzip: None,
                touched: std::time::Instant::now(),
            }),
            // A subscriber this far behind gets a fresh snapshot instead.
            shards: std::array::from_fn(|_| broadcast::channel(16).0),
            next_shard: AtomicUsize::new(0),
            wake: Notify::new(),
            stale: Notify::new(),
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % SHARDS;
        self.shards[shard].subscribe()
    }

    fn subscribers(&self) -> usize {
        self.shards
            .iter()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }

    /// The window for the crowd watching now.
    fn window(&self) -> Duration {
        window_for(self.subscribers())
    }

    /// Deals an event out to the groups one after another over half a window. With no
    /// subscriber at all it is dropped: the next one starts from a snapshot.
    async fn publish_paced(&self, event: Event) {
        let gap = self.window() / 2 / SHARDS as u32;
        for (i, shard) in self.shards.iter().enumerate() {
            if i > 0 && shard.receiver_count() > 0 {
                tokio::time::sleep(gap).await;
            }
            let _ = shard.send(event.clone());
        }
    }

    /// The whole public tally as JSON and its version.
    fn snapshot(&self) -> (Bytes, u64) {
        let mut state = lock(&self.state);
        let version = state.version;
        if let Some(json) = &state.json {
            return (json.clone(), version);
        }
        let versioned = Versioned {
            version,
            tally: &state.published,
        };
        let json = Bytes::from(serde_json::to_vec(&versioned).unwrap_or_default());
        state.json = Some(json.clone());
        (json, version)
    }

    /// The JSON gzipped, once per version: a crowd polling the tally costs no
    /// compression per request.
    fn gzipped(&self) -> (Bytes, u64) {
        let (json, version) = self.snapshot();
        let mut state = lock(&self.state);
        if state.version == version
            && let Some(gzip) = &state.gzip
        {
            return (gzip.clone(), version);
        }
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(json.len() / 3),
            flate2::Compression::default(),
        );
        let gzip = std::io::Write::write_all(&mut encoder, &json)
            .and_then(|()| encoder.finish())
            .map(Bytes::from)
            .unwrap_or_default();
        if state.version == version {
            state.gzip = Some(gzip.clone());
        }
        (gzip, version)
    }

    fn apply(&self, local_id: Option<i64>, delta: i64) {
        lock(&self.state).counts.apply(local_id, delta);
        self.wake.notify_one();
    }

    /// Takes a fresh reading from the database.
    fn replace(&self, counts: Counts, source: Option<(campaign::Model, Directory)>) {
        let mut state = lock(&self.state);
        state.counts = counts;
        if let Some((campaign, directory)) = source {
            state.campaign = campaign;
            if *state.directory != directory {
                state.directory = Arc::new(directory);
            }
        }
    }

    /// Closes the window: if the public tally moved, a new version and its event (a
    /// delta, or a snapshot when the campaign changed what it shows).
    fn take_event(&self, now: DateTime<Utc>) -> Option<Event> {
        let mut state = lock(&self.state);
        let fresh = state.publish(now);
        let old = &state.published;
        let same_view = (
            fresh.breakdown,
            fresh.smallest_group,
            fresh.goal,
            fresh.state,
        ) == (old.breakdown, old.smallest_group, old.goal, old.state)
            && fresh.reached_at == old.reached_at;
        let by_local = moved(
            &old.by_local,
            &fresh.by_local,
            |c| c.local_id,
            |c| LocalCount {
                count: 0,
                ..c.clone()
            },
        );
        let by_union = moved(
            &old.by_union,
            &fresh.by_union,
            |c| c.union.clone(),
            |c| UnionCount {
                count: 0,
                ..c.clone()
            },
        );
        if same_view
            && fresh.total == old.total
            && fresh.other == old.other
            && fresh.community_supporters == old.community_supporters
            && fresh.breakdown_at == old.breakdown_at
            && by_local.is_empty()
            && by_union.is_empty()
        {
            return None;
        }
        let other = (fresh.other != old.other).then_some(fresh.other);
        let supporters = (fresh.community_supporters != old.community_supporters)
            .then_some(fresh.community_supporters);
        let ticked = fresh.breakdown_at != old.breakdown_at;
        state.version += 1;
        state.json = None;
        state.gzip = None;
        state.published = fresh;
        if !same_view {
            drop(state);
            let (json, version) = self.snapshot();
            return Some((version, frame("snapshot", &json)));
        }
        let delta = TallyEvent {
            version: state.version,
            total: state.published.total,
            by_local,
            by_union,
            other,
            community_supporters: supporters,
            state: None,
            breakdown_at: state.published.breakdown_at.clone().filter(|_| ticked),
            updated_at: state.published.updated_at.clone(),
        };
        Some((
            state.version,
            frame("delta", &serde_json::to_vec(&delta).unwrap_or_default()),
        ))
    }
}

/// The tally JSON of a campaign and its ETag.
pub struct Snapshot {
    /// The JSON, or its gzip when asked for.
    pub body: Bytes,
    pub gzip: bool,
    /// Differs between the two encodings, as a strong ETag must.
    pub etag: String,
}

impl TallyHub {
    /// A hub over `db`. On PostgreSQL it also starts listening to the other processes.
    pub fn new(db: DatabaseConnection, clock: Clock) -> Arc<Self> {
        let hub = Arc::new_cyclic(|me| Self {
            me: me.clone(),
            db,
            clock,
            live: Mutex::new(HashMap::new()),
            closing: watch::channel(false).0,
            epoch: getrandom::u64().unwrap_or_else(|_| {
                u64::try_from(Utc::now().timestamp_micros()).unwrap_or_default()
            }),
            moved: Mutex::new(BTreeSet::new()),
            moved_wake: Notify::new(),
            loading: tokio::sync::Mutex::new(()),
            slugs: Mutex::new(HashMap::new()),
        });
        if hub.db.get_database_backend() == DbBackend::Postgres {
            tokio::spawn(announce(Arc::downgrade(&hub), hub.closing.subscribe()));
            tokio::spawn(listen(Arc::downgrade(&hub), hub.closing.subscribe()));
        }
        hub
    }

    fn loaded(&self, campaign_id: i64) -> Option<Arc<Live>> {
        lock(&self.live).get(&campaign_id).cloned()
    }

    /// A reader's campaign, touched under the map's lock so that it cannot be evicted
    /// between being found and being used.
    fn touch(&self, campaign_id: i64) -> Option<Arc<Live>> {
        let map = lock(&self.live);
        let live = map.get(&campaign_id)?;
        lock(&live.state).touched = std::time::Instant::now();
        Some(live.clone())
    }

    /// Drops an idle campaign from memory, unless a reader touched it meanwhile.
    fn evict_if_idle(&self, campaign_id: i64, idle: &Arc<Live>) -> bool {
        let mut map = lock(&self.live);
        let evict = map
            .get(&campaign_id)
            .is_some_and(|current| Arc::ptr_eq(current, idle))
            && idle.subscribers() == 0
            && lock(&idle.state).touched.elapsed() > IDLE;
        if evict {
            map.remove(&campaign_id);
        }
        evict
    }

    async fn live(&self, campaign: &campaign::Model) -> Result<Arc<Live>, DbErr> {
        if let Some(live) = self.touch(campaign.id) {
            return Ok(live);
        }
        // One first read at a time: a crowd arriving at a campaign nobody has read yet
        // waits for one load instead of each running its own.
        let _loading = self.loading.lock().await;
        if let Some(live) = self.touch(campaign.id) {
            return Ok(live);
        }
        let directory = campaigns::directory(&self.db, campaign).await?;
        let counts = tally::counts(&self.db, campaign.id).await?;
        let mut map = lock(&self.live);
        // The series is built by the campaign's task, in the background.
        let live = Arc::new(Live::new(
            campaign.clone(),
            directory,
            counts,
            Series::default(),
            self.clock.now(),
        ));
        map.insert(campaign.id, live.clone());
        lock(&self.slugs).insert(campaign.slug.clone(), campaign.id);
        tokio::spawn(flush(
            self.db.clone(),
            campaign.id,
            live.clone(),
            self.clock.clone(),
            self.closing.subscribe(),
            self.me.clone(),
        ));
        Ok(live)
    }

    /// A campaign the public may see (any but a draft), from memory when it is live
    /// (kept fresh by the resync), else from the database.
    pub async fn public_campaign(&self, slug: &str) -> Result<Option<campaign::Model>, DbErr> {
        let id = lock(&self.slugs).get(slug).copied();
        let cached = id
            .and_then(|id| self.touch(id))
            .map(|live| lock(&live.state).campaign.clone())
            .filter(|c| c.slug == slug);
        let campaign = match cached {
            Some(campaign) => Some(campaign),
            None => campaigns::by_slug(&self.db, slug).await?,
        };
        Ok(campaign.filter(campaigns::is_public))
    }

    /// The campaign's public tally as JSON, with an ETag that changes with every
    /// version.
    pub async fn snapshot(
        &self,
        campaign: &campaign::Model,
        gzip: bool,
    ) -> Result<Snapshot, DbErr> {
        let live = self.live(campaign).await?;
        let (body, version) = if gzip {
            live.gzipped()
        } else {
            live.snapshot()
        };
        let encoding = if gzip { "-gzip" } else { "" };
        Ok(Snapshot {
            body,
            gzip,
            etag: format!("\"{:x}-{version}{encoding}\"", self.epoch),
        })
    }

    /// The campaign's public tally and its series, for a page. The total includes what
    /// this process recorded within the current merge window, so a signer who has just
    /// confirmed sees themselves counted; the groups are the cadence's.
    pub async fn view(&self, campaign: &campaign::Model) -> Result<(Tally, Series), DbErr> {
        let live = self.live(campaign).await?;
        let mut state = lock(&live.state);
        Ok((state.publish(self.clock.now()), state.series.clone()))
    }

    /// Who signs the campaign, and how much of it the public sees.
    pub async fn directory(
        &self,
        campaign: &campaign::Model,
    ) -> Result<(Arc<Directory>, Publication), DbErr> {
        let live = self.live(campaign).await?;
        let state = lock(&live.state);
        Ok((state.directory.clone(), Publication::of(&state.campaign)))
    }

    /// Moves a campaign's tally after a confirmation (+1) or a withdrawal (-1) has
    /// committed. A campaign nobody here has read yet is left to its first read; other
    /// processes are told either way.
    pub fn record(&self, campaign: CampaignId, local: Option<LocalId>, delta: i64) {
        let campaign_id = campaign.0;
        if let Some(live) = self.loaded(campaign_id) {
            live.apply(local.map(|l| l.0), delta);
        }
        if self.db.get_database_backend() == DbBackend::Postgres {
            lock(&self.moved).insert(campaign_id);
            self.moved_wake.notify_one();
        }
    }

    /// Re-reads a campaign changed outside the tally (its settings, its sponsors, a
    /// pledge's standing): here if it is live, and on PostgreSQL in every other process.
    pub fn refresh(&self, campaign: CampaignId) {
        self.moved_elsewhere([campaign.0]);
        if self.db.get_database_backend() == DbBackend::Postgres {
            lock(&self.moved).insert(campaign.0);
            self.moved_wake.notify_one();
        }
    }

    fn moved_elsewhere(&self, campaign_ids: impl IntoIterator<Item = i64>) {
        for id in campaign_ids {
            if let Some(live) = self.loaded(id) {
                live.stale.notify_one();
            }
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
        let receiver = live.subscribe();
        let (json, seen) = live.snapshot();
        let first = frame("snapshot", &json);
        let closing = self.closing.subscribe();
        let start = (Some(first), seen, receiver, live, closing);
        Ok(stream::unfold(
            start,
            |(first, mut seen, mut receiver, live, mut closing)| async move {
                if let Some(first) = first {
                    return Some((first, (None, seen, receiver, live, closing)));
                }
                let next = loop {
                    if *closing.borrow() {
                        return None;
                    }
                    tokio::select! {
                        event = receiver.recv() => match event {
                            // An event still being dealt out when this subscriber took
                            // its snapshot says nothing new.
                            Ok((version, _)) if version <= seen => {}
                            Ok((version, frame)) => {
                                seen = version;
                                break frame;
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                let (json, version) = live.snapshot();
                                seen = version;
                                break frame("snapshot", &json);
                            }
                            Err(broadcast::error::RecvError::Closed) => return None,
                        },
                        () = tokio::time::sleep(KEEP_ALIVE) => break Bytes::from_static(KEEP_ALIVE_FRAME),
                        _ = closing.changed() => return None,
                    }
                };
                Some((next, (None, seen, receiver, live, closing)))
            },
        ))
    }

    /// Ends every stream, so the server can drain, and stops the background tasks.
    pub fn close(&self) {
        let _ = self.closing.send(true);
        lock(&self.live).clear();
    }
}

mod merge;
mod notify;
mod sse;

use merge::*;
pub use notify::announce_change;
use notify::*;
use sse::*;

#[cfg(test)]
mod tests;
