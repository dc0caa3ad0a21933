//! Results: a line per run for people, a JSON line for scripts, and the tokens read
//! from the mail a run's signers were sent.

use super::*;

#[derive(Serialize)]
pub(super) struct Report {
    pub(super) scenario: String,
    pub(super) label: String,
    pub(super) mode: String,
    pub(super) requests: u64,
    pub(super) ok: u64,
    pub(super) statuses: BTreeMap<u16, u64>,
    pub(super) errors: u64,
    pub(super) seconds: f64,
    pub(super) per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    pub(super) max_ms: f64,
}

/// The confirmation token of a mail's `/v/TOKEN` link (quoted-printable soft breaks
/// undone), if it has one.
pub(super) fn token_in(mail: &str) -> Option<String> {
    let text = mail.replace("=\r\n", "").replace("=\n", "");
    let at = text.find("/v/")?;
    let token: String = text[at + 3..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (token.len() == 43).then_some(token)
}

/// Pulls the confirmation tokens out of a folder of mail files.
pub(super) fn tokens_from_mail(dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        tokens.extend(token_in(&std::fs::read_to_string(entry?.path())?));
    }
    Ok(tokens)
}

/// A scenario's figures from what its requests met.
pub(super) fn report_of(
    scenario: &str,
    label: &str,
    mode: &str,
    tally: Tally,
    seconds: f64,
) -> Report {
    let h = &tally.histogram;
    let ok = tally
        .statuses
        .iter()
        .filter(|(s, _)| (200..400).contains(*s))
        .map(|(_, n)| n)
        .sum();
    Report {
        scenario: scenario.to_owned(),
        label: label.to_owned(),
        mode: mode.to_owned(),
        requests: h.len(),
        ok,
        errors: tally.errors,
        seconds,
        per_second: h.len() as f64 / seconds,
        p50_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: h.max() as f64 / 1000.0,
        statuses: tally.statuses,
    }
}

/// A report as one line of the table.
pub(super) fn report_line(report: &Report) -> String {
    format!(
        "{:<8} {:<10} {:<24} {:>8} req {:>9.1}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  ok {} errors {} {:?}",
        report.scenario,
        report.label,
        report.mode,
        report.requests,
        report.per_second,
        report.p50_ms,
        report.p99_ms,
        report.max_ms,
        report.ok,
        report.errors,
        report.statuses
    )
}

/// The tokens in a file, one a line.
pub(super) fn read_tokens(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .map(str::to_owned)
        .filter(|t| !t.is_empty())
        .collect())
}

/// Appends one JSON line to the results file.
pub(super) fn append_json(path: &std::path::Path, line: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{line}")?;
    Ok(())
}
