//! `rollcall-bench`: drives a running Rollcall (or a yardstick serving the same bytes)
//! over HTTP on loopback and reports throughput and latency percentiles.
//!
//! Two modes. Open loop (`--rate R`): request i is due at start + i/R whatever the
//! server is doing, and its latency is measured from that due time, so a server that
//! falls behind cannot hide its queue. Closed loop (`--clients N`): N clients send back
//! to back, which finds the highest rate the server sustains. Requests leave from
//! several 127.0.0.x source addresses; the server is run with those as trusted proxies
//! and each request names a distinct client in `X-Forwarded-For`.

use std::{
    collections::BTreeMap,
    net::IpAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

mod flow;
mod record_day;
mod sink;
mod stream;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::{sync::Mutex, task::JoinSet};

#[derive(Parser)]
#[command(
    name = "rollcall-bench",
    about = "Load scenarios against a running Rollcall"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    /// Where the server (or the yardstick) answers.
    #[arg(long, global = true, default_value = "http://127.0.0.1:3000")]
    base: String,
    /// Open loop: requests per second, on a fixed schedule.
    #[arg(long, global = true)]
    rate: Option<f64>,
    /// Closed loop: clients sending back to back (used when no --rate is given).
    #[arg(long, global = true, default_value_t = 16)]
    clients: usize,
    #[arg(long, global = true, default_value_t = 10)]
    seconds: u64,
    /// How many 127.0.0.x source addresses to spread connections over.
    #[arg(long, global = true, default_value_t = 8)]
    sources: u8,
    /// A name for this run in the report ("sqlite", "nginx", ...).
    #[arg(long, global = true, default_value = "")]
    label: String,
    /// Append the result as one JSON line to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Live-stream watchers (`stream`, `record-day`): 1 puts each on an HTTP/1.1
    /// connection of its own; more puts that many on each HTTP/2 connection (h2c), as
    /// behind a proxy speaking HTTP/2 to the server (at most 200).
    #[arg(long, global = true, default_value_t = 1)]
    streams_per_connection: usize,
    /// A partner key (`rollcall api-key create --role partner`): the JSON sign API
    /// answers 401 without one.
    #[arg(long, global = true, env = "ROLLCALL_PARTNER_KEY", default_value = "")]
    partner_key: String,
}

/// The partner key every sign is sent with, from the command line.
static PARTNER_KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[derive(Subcommand, Clone)]
enum Scenario {
    /// GET the tally JSON (gzip accepted).
    Tally {
        #[arg(long, default_value = "joint-statement-demo")]
        slug: String,
        /// Fetch this path instead (a yardstick's static copy).
        #[arg(long)]
        path: Option<String>,
    },
    /// GET the server-rendered campaign page (gzip accepted).
    Page {
        #[arg(long, default_value = "joint-statement-demo")]
        slug: String,
        #[arg(long)]
        path: Option<String>,
    },
    /// POST distinct signers to the JSON API.
    Sign {
        #[arg(long, default_value = "joint-statement-demo")]
        slug: String,
        /// Sign as community supporters (no local), where the campaign allows them.
        #[arg(long)]
        community: bool,
    },
    /// POST confirm presses, one per token in the file (from `tokens`).
    Confirm {
        #[arg(long)]
        tokens: PathBuf,
    },
    /// The yardstick for SQLite: a minimal program doing a sign's (or a confirm's) writes
    /// with the server's own connection settings (WAL, synchronous NORMAL, immediate
    /// transactions), by `--clients` tasks for `--seconds`.
    SqliteYardstick {
        /// The SQLite file of a suite run (its schema and demo are needed).
        #[arg(long)]
        db: PathBuf,
        /// `sign` or `confirm`.
        #[arg(long)]
        what: String,
    },
    /// Subscribers on a campaign's live tally while confirmations go in at `--rate`
    /// (default 200/s): streams held, delivery latency, server memory per subscriber.
    Stream {
        #[arg(long, default_value = "joint-statement-demo")]
        slug: String,
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// Confirmation tokens, one a line (from `tokens`), for the confirmations.
        #[arg(long)]
        tokens: PathBuf,
        /// The server's process, to weigh its memory with and without the subscribers.
        #[arg(long)]
        server_pid: Option<u32>,
        /// One subscriber in this many records delivery latencies.
        #[arg(long, default_value_t = 100)]
        sample_every: usize,
    },
    /// Signers on a schedule (`--rate`, default 100/s), each confirmation mail received
    /// by an SMTP sink inside this tool and its link pressed at once: the time from sign
    /// to counted, and anything lost on the way. The server's `MAIL_URL` points at
    /// `smtp://127.0.0.1:PORT`.
    Flow {
        #[arg(long, default_value = "joint-statement-demo")]
        slug: String,
        #[arg(long, default_value_t = 2525)]
        smtp_port: u16,
        /// How long to wait for the last mails after the schedule ends.
        #[arg(long, default_value_t = 60)]
        grace: u64,
    },
    /// The record day's mix at once: `--subscribers` watching the live count, `--signs`
    /// a second through the whole flow, `--pages` campaign pages and `--tallies` tally
    /// polls a second.
    RecordDay {
        #[arg(long, default_value = "joint-statement-demo")]
        slug: String,
        #[arg(long, default_value_t = 20000)]
        subscribers: usize,
        #[arg(long, default_value_t = 35.0)]
        signs: f64,
        #[arg(long, default_value_t = 200.0)]
        pages: f64,
        #[arg(long, default_value_t = 200.0)]
        tallies: f64,
        #[arg(long, default_value_t = 2525)]
        smtp_port: u16,
        #[arg(long)]
        server_pid: Option<u32>,
        #[arg(long, default_value_t = 100)]
        sample_every: usize,
    },
    /// Reads the confirmation tokens out of a folder of `.eml` files (the server's
    /// `MAIL_URL=file://DIR`) into a file, one a line.
    Tokens {
        #[arg(long)]
        mail_dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

/// What a request does, given its number and the client to send it with.
#[derive(Clone)]
struct Plan {
    scenario: Scenario,
    base: String,
    locals: Arc<Vec<i64>>,
    tokens: Arc<Vec<String>>,
    run: u64,
}

impl Plan {
    async fn send(&self, client: &reqwest::Client, i: u64) -> Result<u16, reqwest::Error> {
        let forwarded = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        let request = match &self.scenario {
            Scenario::Tally { slug, path } => client
                .get(format!(
                    "{}{}",
                    self.base,
                    path.clone()
                        .unwrap_or_else(|| format!("/api/v1/campaigns/{slug}/tally"))
                ))
                .header("Accept-Encoding", "gzip"),
            Scenario::Page { slug, path } => client
                .get(format!(
                    "{}{}",
                    self.base,
                    path.clone().unwrap_or_else(|| format!("/c/{slug}"))
                ))
                .header("Accept-Encoding", "gzip"),
            Scenario::Sign { slug, community } => {
                let local =
                    (!community).then(|| self.locals[(i as usize) % self.locals.len().max(1)]);
                sign(
                    client,
                    &self.base,
                    slug,
                    local,
                    &signer_email(self.run, i),
                    &forwarded,
                )
            }
            Scenario::Confirm { .. } => {
                let Some(token) = self.tokens.get(i as usize) else {
                    return Ok(0);
                };
                confirm(client, &self.base, token, &forwarded)
            }
            Scenario::Tokens { .. }
            | Scenario::SqliteYardstick { .. }
            | Scenario::Stream { .. }
            | Scenario::Flow { .. }
            | Scenario::RecordDay { .. } => {
                unreachable!("not a request-at-a-time scenario")
            }
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        // Read the whole body, as a browser would.
        response.bytes().await?;
        Ok(status)
    }
}

/// The address the load tool signs its i-th signer of a run with.
fn signer_email(run: u64, i: u64) -> String {
    format!("bench-{run}-{i}@example.org")
}

/// The i-th signer of a run, from the address `signer_email` gave it.
fn signer_of(email: &str, run: u64) -> Option<u64> {
    email
        .trim_matches(|c| c == '<' || c == '>')
        .strip_prefix(&format!("bench-{run}-"))?
        .strip_suffix("@example.org")?
        .parse()
        .ok()
}

/// A signature posted to the JSON API, as a signer's phone would.
fn sign(
    client: &reqwest::Client,
    base: &str,
    slug: &str,
    local: Option<i64>,
    email: &str,
    forwarded: &str,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/v1/campaigns/{slug}/signatures"))
        .bearer_auth(PARTNER_KEY.get().map_or("", String::as_str))
        .header("X-Forwarded-For", forwarded)
        .json(&serde_json::json!({
            "given_name": "Bench",
            "family_name": "Signer",
            "email": email,
            "local_id": local,
        }))
}

/// The confirm button on the page a confirmation link opens.
fn confirm(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    forwarded: &str,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/confirm"))
        .header("Accept", "text/html")
        .header("X-Forwarded-For", forwarded)
        .form(&[("token", token)])
}

/// The campaign's locals, to spread signers over.
async fn locals_of(client: &reqwest::Client, base: &str, slug: &str) -> anyhow::Result<Vec<i64>> {
    let campaign: serde_json::Value = client
        .get(format!("{base}/api/v1/campaigns/{slug}"))
        .send()
        .await?
        .json()
        .await?;
    Ok(campaign["locals"]
        .as_array()
        .map(|l| l.iter().filter_map(|l| l["id"].as_i64()).collect())
        .unwrap_or_default())
}

struct Tally {
    histogram: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

impl Tally {
    fn record(&mut self, latency: Duration, outcome: Result<u16, reqwest::Error>) {
        let _ = self
            .histogram
            .record(latency.as_micros().max(1).min(u128::from(u64::MAX)) as u64);
        match outcome {
            Ok(status) => *self.statuses.entry(status).or_default() += 1,
            Err(_) => self.errors += 1,
        }
    }
}

fn clients(sources: u8) -> anyhow::Result<Vec<reqwest::Client>> {
    (1..=sources.max(1))
        .map(|n| {
            reqwest::Client::builder()
                .local_address(IpAddr::from([127, 0, 0, n]))
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(1024)
                .timeout(Duration::from_secs(30))
                .build()
                .context("an HTTP client")
        })
        .collect()
}

/// Open loop: request i is due at start + i/rate; latency counts from that instant.
async fn open_loop(plan: Plan, clients: Vec<reqwest::Client>, rate: f64, seconds: u64) -> Tally {
    let total = (rate * seconds as f64) as u64;
    let mut tasks = JoinSet::new();
    let start = tokio::time::Instant::now();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        let plan = plan.clone();
        let client = clients[(i as usize) % clients.len()].clone();
        tasks.spawn(async move {
            let outcome = plan.send(&client, i).await;
            (due.elapsed(), outcome)
        });
    }
    let mut tally = new_tally();
    while let Some(done) = tasks.join_next().await {
        if let Ok((latency, outcome)) = done {
            tally.record(latency, outcome);
        }
    }
    tally
}

/// Closed loop: each client sends its next request when the last one is answered.
async fn closed_loop(plan: Plan, clients: Vec<reqwest::Client>, n: usize, seconds: u64) -> Tally {
    let next = Arc::new(AtomicU64::new(0));
    let limit = match &plan.scenario {
        Scenario::Confirm { .. } => plan.tokens.len() as u64,
        _ => u64::MAX,
    };
    let tally = Arc::new(Mutex::new(new_tally()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = JoinSet::new();
    for c in 0..n {
        let (plan, next, tally) = (plan.clone(), next.clone(), tally.clone());
        let client = clients[c % clients.len()].clone();
        tasks.spawn(async move {
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= limit {
                    break;
                }
                let sent = Instant::now();
                let outcome = plan.send(&client, i).await;
                tally.lock().await.record(sent.elapsed(), outcome);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Arc::try_unwrap(tally)
        .map(Mutex::into_inner)
        .unwrap_or_else(|_| new_tally())
}

fn new_tally() -> Tally {
    Tally {
        histogram: Histogram::new(3).expect("a histogram"),
        statuses: BTreeMap::new(),
        errors: 0,
    }
}

fn raise_file_limit() {
    if let Ok((_, hard)) = rlimit::Resource::NOFILE.get() {
        let _ = rlimit::Resource::NOFILE.set(hard, hard);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _ = PARTNER_KEY.set(cli.partner_key.clone());
    raise_file_limit();
    if let Scenario::Tokens { mail_dir, out } = &cli.scenario {
        let tokens = tokens_from_mail(mail_dir)?;
        std::fs::write(out, tokens.join("\n"))?;
        println!("{} tokens written to {}", tokens.len(), out.display());
        return Ok(());
    }
    if let Scenario::SqliteYardstick { db, what } = &cli.scenario {
        return sqlite_yardstick(db, what, cli.clients, cli.seconds, cli.json.as_deref()).await;
    }
    let clients = clients(cli.sources)?;
    let crowd = |watchers: usize| match cli.streams_per_connection {
        1 => Ok(stream::Crowd::http1(&clients)),
        streams => stream::Crowd::http2(cli.sources, watchers, streams),
    };
    if let Scenario::Stream {
        slug,
        subscribers,
        tokens,
        server_pid,
        sample_every,
    } = &cli.scenario
    {
        let options = stream::Options {
            base: cli.base.trim_end_matches('/').to_owned(),
            slug: slug.clone(),
            subscribers: *subscribers,
            tokens: read_tokens(tokens)?,
            rate: cli.rate.unwrap_or(200.0),
            seconds: cli.seconds,
            server_pid: *server_pid,
            sample_every: *sample_every,
            label: cli.label.clone(),
        };
        let crowd = crowd(*subscribers)?;
        let report = stream::run(options, &crowd, clients).await?;
        println!("{}", report.line());
        if let Some(path) = cli.json {
            append_json(&path, &serde_json::to_string(&report)?)?;
        }
        return Ok(());
    }
    let smtp = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    if let Scenario::Flow {
        slug,
        smtp_port,
        grace,
    } = &cli.scenario
    {
        let options = flow::Options {
            base: cli.base.trim_end_matches('/').to_owned(),
            slug: slug.clone(),
            rate: cli.rate.unwrap_or(100.0),
            seconds: cli.seconds,
            smtp: smtp(*smtp_port),
            grace: Duration::from_secs(*grace),
            label: cli.label.clone(),
        };
        let report = flow::run(options, clients, None).await?;
        println!("{}", report.line());
        if let Some(path) = cli.json {
            append_json(&path, &serde_json::to_string(&report)?)?;
        }
        return Ok(());
    }
    if let Scenario::RecordDay {
        slug,
        subscribers,
        signs,
        pages,
        tallies,
        smtp_port,
        server_pid,
        sample_every,
    } = &cli.scenario
    {
        let options = record_day::Options {
            base: cli.base.trim_end_matches('/').to_owned(),
            slug: slug.clone(),
            subscribers: *subscribers,
            signs: *signs,
            pages: *pages,
            tallies: *tallies,
            seconds: cli.seconds,
            smtp: smtp(*smtp_port),
            server_pid: *server_pid,
            sample_every: *sample_every,
            label: cli.label.clone(),
        };
        let crowd = crowd(*subscribers)?;
        let report = record_day::run(options, &crowd, clients).await?;
        println!("record-day {}: failures {}", report.mode, report.failures);
        println!("  {}", report_line(&report.page));
        println!("  {}", report_line(&report.tally));
        println!("  {}", report.flow.line());
        println!("  {}", report.stream.line());
        if let Some(path) = cli.json {
            append_json(&path, &serde_json::to_string(&report)?)?;
        }
        return Ok(());
    }
    let locals = match &cli.scenario {
        Scenario::Sign { slug, .. } => locals_of(&clients[0], &cli.base, slug).await?,
        _ => Vec::new(),
    };
    let tokens = match &cli.scenario {
        Scenario::Confirm { tokens } => read_tokens(tokens)?,
        _ => Vec::new(),
    };
    let plan = Plan {
        scenario: cli.scenario.clone(),
        base: cli.base.trim_end_matches('/').to_owned(),
        locals: Arc::new(locals),
        tokens: Arc::new(tokens),
        run: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    };
    let started = Instant::now();
    let (tally, mode) = match cli.rate {
        Some(rate) => (
            open_loop(plan, clients, rate, cli.seconds).await,
            format!("open loop, {rate}/s"),
        ),
        None => (
            closed_loop(plan, clients, cli.clients, cli.seconds).await,
            format!("closed loop, {} clients", cli.clients),
        ),
    };
    let seconds = started.elapsed().as_secs_f64();
    let scenario = match &cli.scenario {
        Scenario::Tally { .. } => "tally",
        Scenario::Page { .. } => "page",
        Scenario::Sign { .. } => "sign",
        _ => "confirm",
    };
    let report = report_of(scenario, &cli.label, &mode, tally, seconds);
    println!("{}", report_line(&report));
    if let Some(path) = cli.json {
        append_json(&path, &serde_json::to_string(&report)?)?;
    }
    Ok(())
}

mod report;
mod yardstick;

use report::*;
use yardstick::*;
