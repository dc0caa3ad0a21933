//! Confirmed signatures over time, built in the background by the tally hub: per hour
//! while a campaign is young, per day once it has run for more than three days.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};

use crate::{
    domain::SignatureStatus,
    entities::signature,
    views::{Series, SeriesPoint, SeriesUnit},
};

/// Up to this long since the first confirmation, the series is hourly.
pub const HOURLY_SPAN: Duration = Duration::hours(72);
/// A daily series shows at most this many days, the latest.
pub const MAX_DAYS: i64 = 366;

/// Counts of confirmed signatures per UTC hour, read from the index on
/// (campaign, status, show_name, confirmed_at).
async fn hourly(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<BTreeMap<DateTime<Utc>, u64>, DbErr> {
    let backend = db.get_database_backend();
    let hour = match backend {
        // Timestamps are stored as RFC 3339 text in UTC: the first 13 characters are
        // the hour.
        DbBackend::Sqlite => "substr(confirmed_at, 1, 13)",
        _ => r#"to_char(confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')"#,
    };
    let rows: Vec<(String, i64)> = signature::Entity::find()
        .select_only()
        .column_as(Expr::cust(hour), "hour")
        .column_as(signature::Column::Id.count(), "count")
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .filter(signature::Column::ConfirmedAt.is_not_null())
        .group_by(Expr::cust(hour))
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = BTreeMap::new();
    for (hour, count) in rows {
        // "2026-11-26T16" (a space in place of the T on older SQLite rows).
        let text = format!("{}:00:00", hour.replacen(' ', "T", 1));
        if let Ok(start) = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S") {
            *counts.entry(start.and_utc()).or_default() += crate::store::tally::non_negative(count);
        }
    }
    Ok(counts)
}

/// Fills the gaps with zeros, from the first hour (or day) with a signature to `now`.
pub fn shape(hours: &BTreeMap<DateTime<Utc>, u64>, now: DateTime<Utc>) -> Series {
    let Some((&first, _)) = hours.iter().next() else {
        return Series::default();
    };
    let point = |start: DateTime<Utc>, count| SeriesPoint {
        start: start.to_rfc3339_opts(SecondsFormat::Secs, true),
        count,
    };
    let this_hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    if this_hour - first <= HOURLY_SPAN {
        let mut points = Vec::new();
        let mut at = first;
        while at <= this_hour {
            points.push(point(at, hours.get(&at).copied().unwrap_or(0)));
            at += Duration::hours(1);
        }
        return Series {
            unit: SeriesUnit::Hour,
            points,
        };
    }
    let mut days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for (start, count) in hours {
        *days.entry(start.date_naive()).or_default() += count;
    }
    let today = now.date_naive();
    let first_day = Ord::max(first.date_naive(), today - Duration::days(MAX_DAYS - 1));
    let points = first_day
        .iter_days()
        .take_while(|day| *day <= today)
        .map(|day| {
            let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            point(start, days.get(&day).copied().unwrap_or(0))
        })
        .collect();
    Series {
        unit: SeriesUnit::Day,
        points,
    }
}

/// The campaign's series as of `now`.
pub async fn build(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    now: DateTime<Utc>,
) -> Result<Series, DbErr> {
    Ok(shape(&hourly(db, campaign_id).await?, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_young_campaign_is_counted_per_hour_with_empty_hours_as_zero() {
        let hours = BTreeMap::from([
            (at("2026-11-26T10:00:00Z"), 4),
            (at("2026-11-26T12:00:00Z"), 1),
        ]);
        let series = shape(&hours, at("2026-11-26T13:20:00Z"));
        assert_eq!(series.unit, SeriesUnit::Hour);
        let counts: Vec<u64> = series.points.iter().map(|p| p.count).collect();
        assert_eq!(counts, [4, 0, 1, 0]);
        assert_eq!(series.points[0].start, "2026-11-26T10:00:00Z");
    }

    #[test]
    fn an_older_campaign_is_counted_per_day() {
        let hours = BTreeMap::from([
            (at("2026-11-20T10:00:00Z"), 4),
            (at("2026-11-20T22:00:00Z"), 2),
            (at("2026-11-26T01:00:00Z"), 1),
        ]);
        let series = shape(&hours, at("2026-11-26T13:00:00Z"));
        assert_eq!(series.unit, SeriesUnit::Day);
        let counts: Vec<u64> = series.points.iter().map(|p| p.count).collect();
        assert_eq!(counts, [6, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn no_signatures_no_series() {
        assert!(shape(&BTreeMap::new(), Utc::now()).points.is_empty());
    }
}
