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
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::{
    sync::{Mutex, OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
};

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
    shared: Arc<Shared>,
    sampled: bool,
    connecting: OwnedSemaphorePermit,
) {
    let answer = client.get(&url).send().await;
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
            let answered = shared.answered.lock().await;
            let mut latencies = shared.latencies.lock().await;
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

pub async fn run(options: Options, clients: Vec<reqwest::Client>) -> anyhow::Result<StreamReport> {
    let url = format!(
        "{}/api/v1/campaigns/{}/tally/stream",
        options.base, options.slug
    );
    let tally_url = format!("{}/api/v1/campaigns/{}/tally", options.base, options.slug);
    let rss_idle = options.server_pid.and_then(rss_kib);
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let shared = Arc::new(Shared {
        base: AtomicU64::new(0),
        answered: Mutex::new(Vec::new()),
        latencies: Mutex::new(Histogram::new(3)?),
        held: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        ended_early: AtomicU64::new(0),
        events: AtomicU64::new(0),
        stop,
    });

    // Connect the watchers, a few hundred at a time, as a crowd arriving.
    let connecting = Arc::new(Semaphore::new(256));
    let mut watchers = JoinSet::new();
    for i in 0..options.subscribers {
        let permit = connecting.clone().acquire_owned().await?;
        let (client, url, shared) = (
            clients[i % clients.len()].clone(),
            url.clone(),
            shared.clone(),
        );
        let sampled = i % options.sample_every.max(1) == 0;
        watchers.spawn(watch(client, url, shared, sampled, permit));
    }
    let connect_deadline = Instant::now() + Duration::from_secs(120);
    while (shared.held.load(Ordering::Relaxed) + shared.refused.load(Ordering::Relaxed))
        < options.subscribers as u64
        && Instant::now() < connect_deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the snapshots land and the server settle before weighing it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held = shared.held.load(Ordering::Relaxed);
    let rss_held = options.server_pid.and_then(rss_kib);

    let tally: serde_json::Value = clients[0].get(&tally_url).send().await?.json().await?;
    shared
        .base
        .store(tally["total"].as_u64().unwrap_or(0), Ordering::Relaxed);

    // Confirm on a schedule, recording when each answer came.
    let total = ((options.rate * options.seconds as f64) as usize).min(options.tokens.len());
    let confirmed_ok = Arc::new(AtomicU64::new(0));
    let mut confirms = JoinSet::new();
    let start = tokio::time::Instant::now();
    for (i, token) in options.tokens.into_iter().take(total).enumerate() {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / options.rate)).await;
        let client = clients[i % clients.len()].clone();
        let (shared, confirmed_ok) = (shared.clone(), confirmed_ok.clone());
        let confirm = format!("{}/api/confirm", options.base);
        let forwarded = format!("10.9.{}.{}", (i >> 8) & 255, i & 255);
        confirms.spawn(async move {
            let answer = client
                .post(confirm)
                .header("Accept", "text/html")
                .header("X-Forwarded-For", forwarded)
                .form(&[("token", token.as_str())])
                .send()
                .await;
            if answer.is_ok_and(|a| a.status().is_redirection()) {
                shared.answered.lock().await.push(Instant::now());
                confirmed_ok.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while confirms.join_next().await.is_some() {}
    // The last merge window and its delivery.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    while watchers.join_next().await.is_some() {}

    let latencies = shared.latencies.lock().await;
    let per_subscriber = match (rss_idle, rss_held) {
        (Some(idle), Some(with)) if held > 0 => {
            Some(with.saturating_sub(idle) as f64 / held as f64)
        }
        _ => None,
    };
    Ok(StreamReport {
        scenario: "stream",
        label: options.label,
        mode: format!(
            "{} subscribers, confirming {}/s",
            options.subscribers, options.rate
        ),
        subscribers: options.subscribers,
        held,
        refused: shared.refused.load(Ordering::Relaxed),
        ended_early: shared.ended_early.load(Ordering::Relaxed),
        confirms: total as u64,
        confirmed_ok: confirmed_ok.load(Ordering::Relaxed),
        events: shared.events.load(Ordering::Relaxed),
        deliveries: latencies.len(),
        delivery_p50_ms: latencies.value_at_quantile(0.5) as f64 / 1000.0,
        delivery_p99_ms: latencies.value_at_quantile(0.99) as f64 / 1000.0,
        delivery_max_ms: latencies.max() as f64 / 1000.0,
        rss_idle_kib: rss_idle,
        rss_held_kib: rss_held,
        kib_per_subscriber: per_subscriber,
    })
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
