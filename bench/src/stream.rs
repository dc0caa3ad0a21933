//! The `stream` scenario: many people watching the live count while signatures are
//! confirmed. Opens `--subscribers` server-sent-event streams on a campaign's tally,
//! then confirms at `--rate` (open loop, tokens from a file) for `--seconds`, and
//! reports how many streams were held, how long a confirmation took to reach the people
//! watching (from the moment the signer's confirm was answered to the moment a watcher's
//! count includes it), and, given the server's pid, its resident memory per subscriber:
//! (RSS with the subscribers − RSS before) / subscribers.
//!
//! Two approximations in the delivery figure: answers and counts are matched by order
//! (the k-th answer is taken as counted once a watcher's total has grown by k), and a
//! count that reaches a watcher before the signer's answer reaches the signer is
//! recorded as no wait at all, which pulls the median down but not the p99.

use std::{
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
};

/// How the watchers reach the server: each on an HTTP/1.1 connection of its own, as
/// browsers reaching the server directly do, or many to an HTTP/2 connection (without
/// TLS, "h2c"), as behind a proxy that speaks HTTP/2 to the server.
pub struct Crowd {
    clients: Vec<reqwest::Client>,
    per_client: usize,
}

/// The most streams the server takes on one HTTP/2 connection (hyper's default).
pub const MAX_STREAMS_PER_CONNECTION: usize = 200;

impl Crowd {
    /// One HTTP/1.1 connection a watcher, taken in turn from `clients`.
    pub fn http1(clients: &[reqwest::Client]) -> Self {
        Self {
            clients: clients.to_vec(),
            per_client: 1,
        }
    }

    /// `streams` watchers to an HTTP/2 connection, enough connections for `watchers`,
    /// spread over `sources` 127.0.0.x addresses.
    pub fn http2(sources: u8, watchers: usize, streams: usize) -> anyhow::Result<Self> {
        anyhow::ensure!(
            (1..=MAX_STREAMS_PER_CONNECTION).contains(&streams),
            "the server takes 1 to {MAX_STREAMS_PER_CONNECTION} streams on a connection"
        );
        let clients = (0..watchers.div_ceil(streams).max(1))
            .map(|n| {
                reqwest::Client::builder()
                    .local_address(IpAddr::from([
                        127,
                        0,
                        0,
                        1 + (n % sources.max(1) as usize) as u8,
                    ]))
                    .http2_prior_knowledge()
                    .build()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            clients,
            per_client: streams,
        })
    }

    /// The client watcher `i` connects with: a reqwest client holds one HTTP/2
    /// connection and puts every request to the server on it.
    fn client(&self, i: usize) -> reqwest::Client {
        self.clients[(i / self.per_client) % self.clients.len()].clone()
    }

    /// How the watchers are connected, for the report.
    fn describe(&self, watchers: usize) -> String {
        if self.per_client == 1 {
            format!("{watchers} subscribers on HTTP/1.1")
        } else {
            format!(
                "{watchers} subscribers on HTTP/2, {} to a connection",
                self.per_client
            )
        }
    }
}

/// What the scenario is asked to do.
pub struct Options {
    pub base: String,
    pub slug: String,
    pub subscribers: usize,
    pub tokens: Vec<String>,
    pub rate: f64,
    pub seconds: u64,
    pub server_pid: Option<u32>,
    /// One subscriber in this many records delivery latencies; all count what they get.
    pub sample_every: usize,
    pub label: String,
}

#[derive(Serialize)]
pub struct StreamReport {
    pub scenario: &'static str,
    pub label: String,
    pub mode: String,
    pub subscribers: usize,
    pub held: u64,
    pub refused: u64,
    pub ended_early: u64,
    pub confirms: u64,
    pub confirmed_ok: u64,
    pub events: u64,
    pub deliveries: u64,
    pub delivery_p50_ms: f64,
    pub delivery_p99_ms: f64,
    pub delivery_max_ms: f64,
    pub rss_idle_kib: Option<u64>,
    pub rss_held_kib: Option<u64>,
    pub kib_per_subscriber: Option<f64>,
}

impl StreamReport {
    pub fn line(&self) -> String {
        format!(
            "stream   {:<10} {:<36} held {} refused {} ended early {}  confirmed {}/{}  events {}  delivery p50 {:.1} ms p99 {:.1} ms max {:.1} ms  memory {}",
            self.label,
            self.mode,
            self.held,
            self.refused,
            self.ended_early,
            self.confirmed_ok,
            self.confirms,
            self.events,
            self.delivery_p50_ms,
            self.delivery_p99_ms,
            self.delivery_max_ms,
            self.kib_per_subscriber.map_or_else(
                || "not weighed".to_owned(),
                |kib| format!("{kib:.1} KiB per subscriber")
            ),
        )
    }
}

/// When each confirmation was answered, in the order they were: the k-th answered
/// confirmation is counted once a watcher's total reaches base + k.
struct Shared {
    base: AtomicU64,
    answered: Mutex<Vec<Instant>>,
    latencies: Mutex<Histogram<u64>>,
    held: AtomicU64,
    refused: AtomicU64,
    ended_early: AtomicU64,
    events: AtomicU64,
    stop: tokio::sync::watch::Receiver<bool>,
}

/// The resident set of a process, in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The `total` of an SSE frame's JSON, if it has one.
fn total_of(frame: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(frame).ok()?;
    let data = text.lines().find_map(|line| line.strip_prefix("data: "))?;
    serde_json::from_str::<serde_json::Value>(data).ok()?["total"].as_u64()
}

/// One watcher: holds the stream, counts events, and (if sampled) records how long each
/// confirmation took to show. `connecting` is given back once the stream is open.
async fn watch(
    client: reqwest::Client,
    url: String,
    forwarded: String,
    shared: Arc<Shared>,
    sampled: bool,
    connecting: OwnedSemaphorePermit,
) {
    // The client's 30 s deadline covers a whole answer; a watcher's answer lasts the run.
    let answer = client
        .get(&url)
        .header("X-Forwarded-For", forwarded)
        .timeout(Duration::from_secs(24 * 3600))
        .send()
        .await;
    drop(connecting);
    let response = match answer {
        Ok(response) if response.status().is_success() => response,
        _ => {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    shared.held.fetch_add(1, Ordering::Relaxed);
    let mut stop = shared.stop.clone();
    let mut body = response.bytes_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut seen: Option<u64> = None;
    loop {
        let chunk = tokio::select! {
            chunk = body.next() => chunk,
            _ = stop.changed() => return,
        };
        let Some(Ok(chunk)) = chunk else {
            if !*stop.borrow() {
                shared.ended_early.fetch_add(1, Ordering::Relaxed);
            }
            return;
        };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buffer.drain(..end + 2).collect();
            if frame.starts_with(b":") {
                continue; // a keep-alive
            }
            shared.events.fetch_add(1, Ordering::Relaxed);
            // Only the sampled watchers read the JSON: the tool shares the server's cores.
            if !sampled {
                continue;
            }
            let Some(total) = total_of(&frame) else {
                continue;
            };
            let now = Instant::now();
            let base = shared.base.load(Ordering::Relaxed);
            let from = seen.unwrap_or(total).max(base);
            seen = Some(total);
            if total <= from {
                continue;
            }
            let answered = lock(&shared.answered);
            let mut latencies = lock(&shared.latencies);
            for k in (from - base + 1)..=(total - base) {
                // Counted before its answer reached the signer: no wait at all.
                let waited = answered
                    .get(k as usize - 1)
                    .map_or(Duration::ZERO, |at| now.saturating_duration_since(*at));
                let _ = latencies.record(waited.as_micros().max(1) as u64);
            }
        }
    }
}

/// The crowd watching a campaign's count: connected, weighed, and told when each
/// confirmation was answered so it can time how long the count took to show it.
pub struct Watchers {
    shared: Arc<Shared>,
    /// The watchers run on threads of their own: tens of thousands of streams waking
    /// at each event must not delay the tool's other requests past their schedule.
    _runtime: OwnRuntime,
    tasks: JoinSet<()>,
    stop: tokio::sync::watch::Sender<bool>,
    subscribers: usize,
    held: u64,
    rss_idle: Option<u64>,
    rss_held: Option<u64>,
    /// How they were connected, for the report.
    connected: String,
}

/// Notes that a confirmation was answered now: hand it to whatever confirms.
#[derive(Clone)]
pub struct Answered(Arc<Shared>);

impl Answered {
    pub fn now(&self) {
        lock(&self.0.answered).push(Instant::now());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Watchers {
    /// Opens `subscribers` streams on the campaign's live tally, a few hundred at a time
    /// as a crowd arriving, waits for them, and weighs the server with and without them.
    /// The watchers connect as `crowd` says; `clients` reads the count they start from.
    pub async fn connect(
        crowd: &Crowd,
        clients: &[reqwest::Client],
        base: &str,
        slug: &str,
        subscribers: usize,
        sample_every: usize,
        server_pid: Option<u32>,
    ) -> anyhow::Result<Self> {
        let url = format!("{base}/api/v1/campaigns/{slug}/tally/stream");
        let rss_idle = server_pid.and_then(rss_kib);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            base: AtomicU64::new(0),
            answered: Mutex::new(Vec::new()),
            latencies: Mutex::new(Histogram::new(3)?),
            held: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            ended_early: AtomicU64::new(0),
            events: AtomicU64::new(0),
            stop: stopped,
        });
        let runtime = OwnRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("watchers")
                .enable_all()
                .build()?,
        ));
        let connecting = Arc::new(Semaphore::new(256));
        let mut tasks = JoinSet::new();
        for i in 0..subscribers {
            let permit = connecting.clone().acquire_owned().await?;
            let (client, url, shared) = (crowd.client(i), url.clone(), shared.clone());
            let sampled = i % sample_every.max(1) == 0;
            // Each watcher its own address (the server trusts the tool's as a proxy's):
            // the server caps the streams one address holds.
            let forwarded = format!(
                "10.{}.{}.{}",
                64 + ((i >> 16) & 63),
                (i >> 8) & 255,
                i & 255
            );
            tasks.spawn_on(
                watch(client, url, forwarded, shared, sampled, permit),
                runtime.handle(),
            );
        }
        let connect_deadline = Instant::now() + Duration::from_secs(120);
        while (shared.held.load(Ordering::Relaxed) + shared.refused.load(Ordering::Relaxed))
            < subscribers as u64
            && Instant::now() < connect_deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Let the snapshots land and the server settle before weighing it.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let held = shared.held.load(Ordering::Relaxed);
        let rss_held = server_pid.and_then(rss_kib);
        let tally: serde_json::Value = clients[0]
            .get(format!("{base}/api/v1/campaigns/{slug}/tally"))
            .send()
            .await?
            .json()
            .await?;
        shared
            .base
            .store(tally["total"].as_u64().unwrap_or(0), Ordering::Relaxed);
        Ok(Self {
            shared,
            _runtime: runtime,
            tasks,
            stop,
            subscribers,
            held,
            rss_idle,
            rss_held,
            connected: crowd.describe(subscribers),
        })
    }

    pub fn answered(&self) -> Answered {
        Answered(self.shared.clone())
    }

    /// Waits for the last merge window to be delivered, closes the streams and reports.
    pub async fn finish(
        mut self,
        label: String,
        activity: Option<String>,
        confirms: u64,
        confirmed_ok: u64,
    ) -> StreamReport {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        let latencies = lock(&self.shared.latencies);
        let per_subscriber = match (self.rss_idle, self.rss_held) {
            (Some(idle), Some(with)) if self.held > 0 => {
                Some(with.saturating_sub(idle) as f64 / self.held as f64)
            }
            _ => None,
        };
        StreamReport {
            scenario: "stream",
            label,
            mode: match activity {
                Some(activity) => format!("{}, {activity}", self.connected),
                None => self.connected.clone(),
            },
            subscribers: self.subscribers,
            held: self.held,
            refused: self.shared.refused.load(Ordering::Relaxed),
            ended_early: self.shared.ended_early.load(Ordering::Relaxed),
            confirms,
            confirmed_ok,
            events: self.shared.events.load(Ordering::Relaxed),
            deliveries: latencies.len(),
            delivery_p50_ms: latencies.value_at_quantile(0.5) as f64 / 1000.0,
            delivery_p99_ms: latencies.value_at_quantile(0.99) as f64 / 1000.0,
            delivery_max_ms: latencies.max() as f64 / 1000.0,
            rss_idle_kib: self.rss_idle,
            rss_held_kib: self.rss_held,
            kib_per_subscriber: per_subscriber,
        }
    }
}

/// A runtime owned inside another: dropping a runtime from async code panics, so this
/// one is shut down in the background instead.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn handle(&self) -> &tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("shut down only when dropped")
            .handle()
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

pub async fn run(
    options: Options,
    crowd: &Crowd,
    clients: Vec<reqwest::Client>,
) -> anyhow::Result<StreamReport> {
    let watchers = Watchers::connect(
        crowd,
        &clients,
        &options.base,
        &options.slug,
        options.subscribers,
        options.sample_every,
        options.server_pid,
    )
    .await?;
    // Confirm on a schedule, noting when each answer came.
    let total = ((options.rate * options.seconds as f64) as usize).min(options.tokens.len());
    let confirmed_ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut confirms = JoinSet::new();
    let start = tokio::time::Instant::now();
    for (i, token) in options.tokens.into_iter().take(total).enumerate() {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / options.rate)).await;
        let client = clients[i % clients.len()].clone();
        let (answered, confirmed_ok, failed, base) = (
            watchers.answered(),
            confirmed_ok.clone(),
            failed.clone(),
            options.base.clone(),
        );
        let forwarded = format!("10.9.{}.{}", (i >> 8) & 255, i & 255);
        confirms.spawn(async move {
            let answer = crate::confirm(&client, &base, &token, &forwarded)
                .send()
                .await;
            match answer {
                Ok(a) if a.status().is_redirection() => {
                    answered.now();
                    confirmed_ok.fetch_add(1, Ordering::Relaxed);
                }
                // The first few failures, said: a count alone does not tell why.
                other if failed.fetch_add(1, Ordering::Relaxed) < 3 => match other {
                    Ok(a) => eprintln!("confirm answered {}", a.status()),
                    Err(err) => eprintln!("confirm failed: {err:?}"),
                },
                _ => {}
            }
        });
    }
    while confirms.join_next().await.is_some() {}
    Ok(watchers
        .finish(
            options.label,
            Some(format!("confirming {}/s", options.rate)),
            total as u64,
            confirmed_ok.load(Ordering::Relaxed),
        )
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_gives_its_total() {
        assert_eq!(
            total_of(b"event: delta\ndata: {\"version\":3,\"total\":42}\n\n"),
            Some(42)
        );
        assert_eq!(total_of(b": keep-alive\n\n"), None);
    }
}
