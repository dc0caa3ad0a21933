//! The `record-day` scenario: the mix of the biggest petition day there has been, all at
//! once for `--seconds`: a crowd watching the live count, signers going through the whole
//! flow (sign, mail to the sink, confirm), people opening the campaign page, and pollers
//! reading the tally JSON. Reports each part and whether anything failed or was lost.

use std::{net::SocketAddr, time::Duration};

use serde::Serialize;

use crate::{Plan, Report, Scenario, flow, open_loop, report_of, stream};

pub struct Options {
    pub base: String,
    pub slug: String,
    pub subscribers: usize,
    pub signs: f64,
    pub pages: f64,
    pub tallies: f64,
    pub seconds: u64,
    pub smtp: SocketAddr,
    pub server_pid: Option<u32>,
    pub sample_every: usize,
    pub label: String,
}

#[derive(Serialize)]
pub struct RecordDayReport {
    pub scenario: &'static str,
    pub label: String,
    pub mode: String,
    pub page: Report,
    pub tally: Report,
    pub flow: flow::FlowReport,
    pub stream: stream::StreamReport,
    /// 5xx answers to any request of the mix, and requests that got no answer.
    pub failures: u64,
}

pub async fn run(
    options: Options,
    crowd: &stream::Crowd,
    clients: Vec<reqwest::Client>,
) -> anyhow::Result<RecordDayReport> {
    let watchers = stream::Watchers::connect(
        crowd,
        &clients,
        &options.base,
        &options.slug,
        options.subscribers,
        options.sample_every,
        options.server_pid,
    )
    .await?;
    let plan = |scenario| Plan {
        scenario,
        base: options.base.clone(),
        locals: Default::default(),
        tokens: Default::default(),
        run: 0,
    };
    let page = plan(Scenario::Page {
        slug: options.slug.clone(),
        path: None,
    });
    let tally = plan(Scenario::Tally {
        slug: options.slug.clone(),
        path: None,
    });
    let flow = flow::run(
        flow::Options {
            base: options.base.clone(),
            slug: options.slug.clone(),
            rate: options.signs,
            seconds: options.seconds,
            smtp: options.smtp,
            grace: Duration::from_secs(60),
            label: options.label.clone(),
        },
        clients.clone(),
        Some(watchers.answered()),
    );
    let (pages, tallies, flow) = tokio::join!(
        open_loop(page, clients.clone(), options.pages, options.seconds),
        open_loop(tally, clients.clone(), options.tallies, options.seconds),
        flow,
    );
    let flow = flow?;
    // Rates over the schedule: the flow's wait for its last mails is not reading time.
    let seconds = options.seconds as f64;
    let stream = watchers
        .finish(options.label.clone(), None, flow.signed_ok, flow.counted)
        .await;
    let page = report_of("page", &options.label, "open loop", pages, seconds);
    let tally = report_of("tally", &options.label, "open loop", tallies, seconds);
    let server_errors = |statuses: &std::collections::BTreeMap<u16, u64>| -> u64 {
        statuses
            .iter()
            .filter(|(status, _)| **status >= 500)
            .map(|(_, n)| n)
            .sum()
    };
    let failures = server_errors(&page.statuses)
        + page.errors
        + server_errors(&tally.statuses)
        + tally.errors
        + server_errors(&flow.sign_statuses)
        + flow.sign_errors
        + server_errors(&flow.confirm_statuses)
        + flow.confirm_errors;
    Ok(RecordDayReport {
        scenario: "record-day",
        label: options.label,
        mode: format!(
            "{} s: {} watching, {} signs/s through mail and confirm, {} pages/s, {} tally polls/s",
            options.seconds, options.subscribers, options.signs, options.pages, options.tallies
        ),
        page,
        tally,
        flow,
        stream,
        failures,
    })
}
