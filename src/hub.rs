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
    campaigns,
    clock::Clock,
    entities::campaign,
    series,
    tally::{self, Cadenced, Counts, Directory, Publication},
    views::{LocalCount, Series, Tally, UnionCount},
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
/// A comment line that keeps idle connections (and proxies) open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const KEEP_ALIVE_FRAME: &[u8] = b": keep-alive\n\n";
/// The PostgreSQL channel on which processes tell each other what moved.
const CHANNEL: &str = "rollcall_tally";

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

/// What changed since the last event: the total and only the groups that moved. A local
/// or union that fell out of view is sent with a count of zero.
#[derive(Serialize)]
struct Delta<'a> {
    version: u64,
    total: u64,
    by_local: Vec<LocalCount>,
    by_union: Vec<UnionCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    community_supporters: Option<u64>,
    /// The cadence ticked: the groups above are counted at this moment.
    #[serde(skip_serializing_if = "Option::is_none")]
    breakdown_at: Option<&'a str>,
    updated_at: &'a str,
}

#[derive(Serialize)]
struct Versioned<'a> {
    version: u64,
    #[serde(flatten)]
    tally: &'a Tally,
}

/// A frame and the version it brings a subscriber to.
type Event = (u64, Bytes);

fn frame(event: &str, json: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(json.len() + event.len() + 16);
    frame.extend_from_slice(b"event: ");
    frame.extend_from_slice(event.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    frame.extend_from_slice(json);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

/// The merge window of a campaign `subscribers` watch.
fn window_for(subscribers: usize) -> Duration {
    MERGE_WINDOW.max(Duration::from_secs_f64(
        subscribers as f64 / FAN_OUT_PER_SECOND,
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The groups of `new` that differ from `old`, and those of `old` gone from `new` as
/// zero.
fn moved<T: Clone + PartialEq, K: PartialEq>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> K,
    gone: impl Fn(&T) -> T,
) -> Vec<T> {
    let changed = new
        .iter()
        .filter(|n| !old.iter().any(|o| key(o) == key(n) && o == *n))
        .cloned();
    let vanished = old
        .iter()
        .filter(|o| !new.iter().any(|n| key(n) == key(o)))
        .map(gone);
    changed.chain(vanished).collect()
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
        let delta = Delta {
            version: state.version,
            total: state.published.total,
            by_local,
            by_union,
            other,
            community_supporters: supporters,
            breakdown_at: state.published.breakdown_at.as_deref().filter(|_| ticked),
            updated_at: &state.published.updated_at,
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
    pub fn record(&self, campaign_id: i64, local_id: Option<i64>, delta: i64) {
        if let Some(live) = self.loaded(campaign_id) {
            live.apply(local_id, delta);
        }
        if self.db.get_database_backend() == DbBackend::Postgres {
            lock(&self.moved).insert(campaign_id);
            self.moved_wake.notify_one();
        }
    }

    /// Another process moved these campaigns.
    /// Re-reads a campaign this process changed outside the tally (its settings, its
    /// sponsors), if it is live here.
    pub fn refresh(&self, campaign_id: i64) {
        self.moved_elsewhere([campaign_id]);
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

/// One live campaign's task: merges bursts into one event per window, re-reads the
/// campaign when another process moved it and every [`RESYNC`], and rebuilds its series.
async fn flush(
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
async fn reread(
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

/// Tells the other processes which campaigns this one moved: one NOTIFY per window at
/// most, sent after the confirmations committed.
async fn announce(hub: Weak<TallyHub>, mut closing: watch::Receiver<bool>) {
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

async fn notify(db: &DatabaseConnection, epoch: u64, ids: &BTreeSet<i64>) -> Result<(), DbErr> {
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
fn parse_payload(payload: &str) -> Option<(u64, Vec<i64>)> {
    let (epoch, ids) = payload.split_once(':')?;
    let epoch = u64::from_str_radix(epoch, 16).ok()?;
    let ids = ids.split(',').filter_map(|id| id.parse().ok()).collect();
    Some((epoch, ids))
}

/// Listens for the other processes' notifications on the pool sea-orm already uses, and
/// re-reads what they moved. On a lost connection sqlx reconnects; everything live is
/// then re-read, since notifications may have been missed meanwhile.
async fn listen(hub: Weak<TallyHub>, mut closing: watch::Receiver<bool>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_grows_with_the_crowd_beyond_what_a_quarter_second_can_serve() {
        assert_eq!(window_for(0), MERGE_WINDOW);
        assert_eq!(window_for(10_000), MERGE_WINDOW);
        assert_eq!(window_for(20_000), Duration::from_millis(500));
        assert_eq!(window_for(100_000), Duration::from_millis(2_500));
    }

    #[test]
    fn a_notification_names_its_sender_and_campaigns() {
        assert_eq!(parse_payload("ff:1,22"), Some((255, vec![1, 22])));
        assert_eq!(parse_payload("nonsense"), None);
    }

    #[test]
    fn only_what_moved_is_sent_and_what_vanished_is_zero() {
        let count = |label: &str, count| UnionCount {
            union: label.into(),
            name: label.into(),
            count,
        };
        let old = [count("a", 5), count("b", 7)];
        let new = [count("a", 6), count("c", 5)];
        let sent = moved(
            &old,
            &new,
            |c| c.union.clone(),
            |c| UnionCount {
                count: 0,
                ..c.clone()
            },
        );
        assert_eq!(sent, [count("a", 6), count("c", 5), count("b", 0)]);
    }
}
