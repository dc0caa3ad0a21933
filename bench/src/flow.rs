//! The `flow` scenario: a signer's whole path. Signers post on a schedule (open loop);
//! the server's confirmation mail reaches the SMTP sink inside the tool; the link in it
//! is pressed at once; and the time from the signer's intended send to the confirm's
//! answer (the signature counted) is recorded. Whatever was acknowledged but never
//! mailed, or mailed but never counted, is reported as lost.

use std::{
    collections::{BTreeMap, HashSet},
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::{Tally, new_tally, sink, stream::Answered};

/// What the scenario is asked to do.
pub struct Options {
    pub base: String,
    pub slug: String,
    pub rate: f64,
    pub seconds: u64,
    /// Where the sink listens (the server's `MAIL_URL` points here).
    pub smtp: SocketAddr,
    /// How long to wait for the last mails once the schedule has ended.
    pub grace: Duration,
    pub label: String,
}

#[derive(Serialize)]
pub struct FlowReport {
    pub scenario: &'static str,
    pub label: String,
    pub mode: String,
    pub signs: u64,
    pub signed_ok: u64,
    pub sign_statuses: BTreeMap<u16, u64>,
    pub sign_errors: u64,
    pub sign_p50_ms: f64,
    pub sign_p99_ms: f64,
    pub mails: u64,
    /// Mail without a confirmation link for this run (receipts and the like).
    pub other_mails: u64,
    pub confirm_statuses: BTreeMap<u16, u64>,
    pub confirm_errors: u64,
    pub counted: u64,
    /// Signatures acknowledged but not counted by the end of the grace period.
    pub lost: u64,
    /// Confirmation mails that arrived more than once.
    pub duplicates: u64,
    pub counted_p50_ms: f64,
    pub counted_p99_ms: f64,
    pub counted_max_ms: f64,
}

struct Shared {
    signs: Mutex<Tally>,
    confirms: Mutex<Tally>,
    counted: Mutex<Histogram<u64>>,
    signed_ok: AtomicU64,
    mails: AtomicU64,
    other_mails: AtomicU64,
    duplicates: AtomicU64,
    /// Signers whose signature was acknowledged, and those counted.
    acknowledged: Mutex<HashSet<u64>>,
    counted_signers: Mutex<HashSet<u64>>,
}

impl Shared {
    /// Acknowledged signers not (yet) counted.
    fn missing(&self) -> u64 {
        let counted = lock(&self.counted_signers);
        lock(&self.acknowledged)
            .iter()
            .filter(|i| !counted.contains(i))
            .count() as u64
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the flow; `answered` (if given) is told of each counted signature, for the
/// watchers of the record-day mix.
pub async fn run(
    options: Options,
    clients: Vec<reqwest::Client>,
    answered: Option<Answered>,
) -> anyhow::Result<FlowReport> {
    let (_, mut mail) = sink::start(options.smtp).await?;
    let locals = crate::locals_of(&clients[0], &options.base, &options.slug).await?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;
    let total = (options.rate * options.seconds as f64) as u64;
    let shared = Arc::new(Shared {
        signs: Mutex::new(new_tally()),
        confirms: Mutex::new(new_tally()),
        counted: Mutex::new(Histogram::new(3)?),
        signed_ok: AtomicU64::new(0),
        mails: AtomicU64::new(0),
        other_mails: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        acknowledged: Mutex::new(HashSet::new()),
        counted_signers: Mutex::new(HashSet::new()),
    });
    let start = tokio::time::Instant::now();
    let due = move |i: u64| start + Duration::from_secs_f64(i as f64 / options.rate);

    // Each confirmation mail is answered as it arrives, whatever the schedule is doing.
    let reader = {
        let (shared, clients, base) = (shared.clone(), clients.clone(), options.base.clone());
        tokio::spawn(async move {
            let mut confirms = JoinSet::new();
            let mut seen = HashSet::new();
            while let Some(message) = mail.recv().await {
                let text = String::from_utf8_lossy(&message.data);
                let signer = message.to.iter().find_map(|to| crate::signer_of(to, run));
                let (Some(i), Some(token)) = (signer, crate::token_in(&text)) else {
                    shared.other_mails.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                if !seen.insert(i) {
                    // Sent twice: counted once, and reported.
                    shared.duplicates.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                shared.mails.fetch_add(1, Ordering::Relaxed);
                let client = clients[(i as usize) % clients.len()].clone();
                let (shared, base, answered) = (shared.clone(), base.clone(), answered.clone());
                let forwarded = format!("10.8.{}.{}", (i >> 8) & 255, i & 255);
                confirms.spawn(async move {
                    let pressed = Instant::now();
                    let outcome = match crate::confirm(&client, &base, &token, &forwarded)
                        .send()
                        .await
                    {
                        Ok(answer) => Ok(answer.status().as_u16()),
                        Err(err) => Err(err),
                    };
                    if outcome.as_ref().is_ok_and(|s| (300..400).contains(s)) {
                        if let Some(answered) = &answered {
                            answered.now();
                        }
                        lock(&shared.counted_signers).insert(i);
                        let waited = due(i).elapsed();
                        let _ = lock(&shared.counted).record(waited.as_micros().max(1) as u64);
                    }
                    lock(&shared.confirms).record(pressed.elapsed(), outcome);
                });
                while confirms.try_join_next().is_some() {}
            }
            while confirms.join_next().await.is_some() {}
        })
    };

    // Signers on the schedule.
    let mut signs = JoinSet::new();
    for i in 0..total {
        tokio::time::sleep_until(due(i)).await;
        let client = clients[(i as usize) % clients.len()].clone();
        let shared = shared.clone();
        let local = (!locals.is_empty()).then(|| locals[(i as usize) % locals.len()]);
        let (base, slug) = (options.base.clone(), options.slug.clone());
        signs.spawn(async move {
            let forwarded = format!("10.7.{}.{}", (i >> 8) & 255, i & 255);
            let outcome = crate::sign(
                &client,
                &base,
                &slug,
                local,
                &crate::signer_email(run, i),
                &forwarded,
            )
            .send()
            .await;
            let outcome = match outcome {
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    let _ = answer.bytes().await;
                    Ok(status)
                }
                Err(err) => Err(err),
            };
            if outcome.as_ref().is_ok_and(|s| (200..300).contains(s)) {
                shared.signed_ok.fetch_add(1, Ordering::Relaxed);
                lock(&shared.acknowledged).insert(i);
            }
            lock(&shared.signs).record(due(i).elapsed(), outcome);
        });
        while signs.try_join_next().is_some() {}
    }
    while signs.join_next().await.is_some() {}

    // The last mails: until every acknowledged signer is counted, or the grace is over.
    let deadline = Instant::now() + options.grace;
    while shared.missing() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    reader.abort();
    let _ = reader.await;

    let signs = lock(&shared.signs);
    let confirms = lock(&shared.confirms);
    let counted = lock(&shared.counted);
    let signed_ok = shared.signed_ok.load(Ordering::Relaxed);
    Ok(FlowReport {
        scenario: "flow",
        label: options.label,
        mode: format!("open loop, {}/s for {} s", options.rate, options.seconds),
        signs: signs.histogram.len(),
        signed_ok,
        sign_statuses: signs.statuses.clone(),
        sign_errors: signs.errors,
        sign_p50_ms: signs.histogram.value_at_quantile(0.5) as f64 / 1000.0,
        sign_p99_ms: signs.histogram.value_at_quantile(0.99) as f64 / 1000.0,
        mails: shared.mails.load(Ordering::Relaxed),
        other_mails: shared.other_mails.load(Ordering::Relaxed),
        confirm_statuses: confirms.statuses.clone(),
        confirm_errors: confirms.errors,
        counted: counted.len(),
        lost: shared.missing(),
        duplicates: shared.duplicates.load(Ordering::Relaxed),
        counted_p50_ms: counted.value_at_quantile(0.5) as f64 / 1000.0,
        counted_p99_ms: counted.value_at_quantile(0.99) as f64 / 1000.0,
        counted_max_ms: counted.max() as f64 / 1000.0,
    })
}

impl FlowReport {
    pub fn line(&self) -> String {
        format!(
            "flow     {:<10} {:<28} signed {}/{} {:?}  mailed {} (+{} other, {} twice)  counted {} lost {}  sign p99 {:.1} ms  sign to counted p50 {:.0} ms p99 {:.0} ms max {:.0} ms  confirms {:?} errors {}",
            self.label,
            self.mode,
            self.signed_ok,
            self.signs,
            self.sign_statuses,
            self.mails,
            self.other_mails,
            self.duplicates,
            self.counted,
            self.lost,
            self.sign_p99_ms,
            self.counted_p50_ms,
            self.counted_p99_ms,
            self.counted_max_ms,
            self.confirm_statuses,
            self.confirm_errors,
        )
    }
}
