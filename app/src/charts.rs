//! Pictures of a campaign, drawn as SVG on the server from the hub's series and tally:
//! signatures over time, and each local's share of its membership. Each comes with a
//! text alternative; none ships code to the browser.

use leptos::prelude::*;
use rollcall::domain::{Language, format_share_percent, share_of_membership};
use rollcall::views::{Series, SeriesUnit, Tally};

use rollcall::i18n::td_string;

use crate::components::{format_count, format_date, format_instant};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const BAR_ROW: f64 = 26.0;
/// At most this many locals in the bar chart: the highest shares.
const MOST_LOCALS: usize = 12;

/// "Nov 26, 2026, 2:00 PM UTC" for an hour, "Nov 26, 2026" for a day, as the reader's
/// language writes them.
fn when(start: &str, unit: SeriesUnit, language: Language) -> String {
    match unit {
        SeriesUnit::Hour => format_instant(start, language),
        SeriesUnit::Day => format_date(start, language),
    }
}

/// The series as one filled path: a point per hour or day, scaled to the busiest.
fn area_path(counts: &[u64]) -> String {
    let most = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if counts.len() > 1 {
        WIDTH / (counts.len() - 1) as f64
    } else {
        WIDTH
    };
    let mut path = format!("M0 {HEIGHT}");
    for (i, count) in counts.iter().enumerate() {
        let x = i as f64 * step;
        let y = HEIGHT - (*count as f64 / most) * (HEIGHT - 8.0);
        path.push_str(&format!(" L{x:.1} {y:.1}"));
    }
    let end = if counts.len() > 1 { WIDTH } else { 0.0 };
    path.push_str(&format!(" L{end:.1} {HEIGHT} Z"));
    path
}

/// Confirmed signatures per hour (or per day), with the busiest period and the latest
/// ones in words and in a table for screen readers.
#[component]
pub fn OverTimeChart(series: Series, language: Language) -> impl IntoView {
    (series.points.len() >= 2).then(|| {
        let unit = series.unit;
        let locale = language.locale();
        let hourly = unit == SeriesUnit::Hour;
        let counts: Vec<u64> = series.points.iter().map(|p| p.count).collect();
        let busiest = series
            .points
            .iter()
            .max_by_key(|p| p.count)
            .map(|p| (when(&p.start, unit, language), p.count))
            .unwrap_or_default();
        let first = series.points.first().map(|p| when(&p.start, unit, language)).unwrap_or_default();
        let last = series.points.last().map(|p| when(&p.start, unit, language)).unwrap_or_default();
        let (busiest, count) = (busiest.0, format_count(busiest.1, language));
        let description = if hourly {
            td_string!(locale, chart.hour_desc, first = first.clone(), last = last.clone(), busiest, count)
        } else {
            td_string!(locale, chart.day_desc, first = first.clone(), last = last.clone(), busiest, count)
        };
        let recent: Vec<_> = series.points.iter().rev().take(12).cloned().collect();
        view! {
            <figure class="chart">
                <figcaption id="over-time-title">{if hourly { td_string!(locale, chart.hour_title) } else { td_string!(locale, chart.day_title) }}</figcaption>
                <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img"
                    aria-labelledby="over-time-title over-time-desc" class="chart-area">
                    <desc id="over-time-desc">{description.clone()}</desc>
                    <path d=area_path(&counts) class="chart-fill"/>
                </svg>
                <p class="chart-axis"><span>{first}</span><span>{last}</span></p>
                <details>
                    <summary>{if hourly { td_string!(locale, chart.hour_table) } else { td_string!(locale, chart.day_table) }}</summary>
                    <p>{description}</p>
                    <table>
                        <thead><tr><th scope="col">{if hourly { td_string!(locale, chart.hour) } else { td_string!(locale, chart.day) }}</th><th scope="col">{td_string!(locale, chart.confirmed)}</th></tr></thead>
                        <tbody>
                            {recent.into_iter().map(|p| view! {
                                <tr><th scope="row">{when(&p.start, unit, language)}</th><td>{format_count(p.count, language)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            </figure>
        }
    })
}

/// The locals with the highest share of their membership signed, one bar each. The
/// breakdown table beside it says the same in full.
#[component]
pub fn ByLocalChart(tally: Tally, language: Language) -> impl IntoView {
    let mut shares: Vec<_> = tally
        .by_local
        .iter()
        .filter_map(|c| {
            Some((
                c.label.clone(),
                share_of_membership(c.count, c.member_count)?,
            ))
        })
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    shares.truncate(MOST_LOCALS);
    (!shares.is_empty()).then(|| {
        let height = shares.len() as f64 * BAR_ROW;
        let label_width = 250.0;
        let bar_width = WIDTH - label_width - 50.0;
        view! {
            <figure class="chart">
                <figcaption id="by-local-title">{td_string!(language.locale(), chart.by_local)}</figcaption>
                <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" class="chart-bars"
                    aria-labelledby="by-local-title" aria-describedby="breakdown">
                    {shares.into_iter().enumerate().map(|(i, (label, share))| {
                        let y = i as f64 * BAR_ROW;
                        let width = (share.min(1.0) * bar_width).max(1.0);
                        view! {
                            <g>
                                <text x="0" y=format!("{:.1}", y + 17.0) class="chart-label">{label}</text>
                                <rect x=label_width y=format!("{:.1}", y + 5.0) width=format!("{width:.1}") height="16" class="chart-fill"/>
                                <text x=format!("{:.1}", label_width + width + 6.0) y=format!("{:.1}", y + 17.0) class="chart-label">{format_share_percent(share)}</text>
                            </g>
                        }
                    }).collect_view()}
                </svg>
            </figure>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_spans_the_width_and_peaks_at_the_busiest() {
        let path = area_path(&[0, 4, 2]);
        assert!(path.starts_with("M0 160"));
        assert!(path.contains("L300.0 8.0"), "{path}");
        assert!(path.ends_with("L600.0 160 Z"), "{path}");
    }

    #[test]
    fn hours_and_days_read_as_each_language_writes_dates() {
        let hour = "2026-11-26T14:00:00Z";
        // ICU puts a narrow no-break space before "PM", as browsers' Intl does.
        assert_eq!(
            when(hour, SeriesUnit::Hour, Language::En),
            "Nov 26, 2026, 2:00\u{202f}PM UTC"
        );
        assert_eq!(
            when(hour, SeriesUnit::Hour, Language::Es),
            "26 nov 2026, 14:00 UTC"
        );
        assert_eq!(
            when("2026-11-26T00:00:00Z", SeriesUnit::Day, Language::En),
            "Nov 26, 2026"
        );
        assert_eq!(
            when("2026-11-26", SeriesUnit::Day, Language::Es),
            "26 nov 2026"
        );
        assert_eq!(
            when("not a date", SeriesUnit::Day, Language::Es),
            "not a date"
        );
    }
}
