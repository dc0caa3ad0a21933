//! Importing unions and locals from a CSV sheet: a re-import updates, never duplicates.

use super::*;

#[derive(Debug, Deserialize)]
struct LocalRow {
    union_slug: String,
    #[serde(default)]
    union_name: String,
    #[serde(default)]
    union_short_name: String,
    local: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    member_count: String,
    #[serde(default)]
    member_count_as_of: String,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LocalsImported {
    pub unions_created: usize,
    pub locals_created: usize,
    pub locals_updated: usize,
}

/// "Local 102" → "local-102": the key a local is matched by within its union.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

pub(super) fn none_if_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Imports locals (and any union not yet known) from CSV, all in one transaction.
pub async fn import_locals(
    db: &DatabaseConnection,
    csv_text: &str,
    now: DateTime<Utc>,
) -> Result<LocalsImported, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let txn = db::begin_write(db).await?;
    let mut report = LocalsImported::default();
    for (index, row) in reader.deserialize::<LocalRow>().enumerate() {
        let row = row?;
        // The header is line 1.
        let line = index as u64 + 2;
        let bad = |message: String| ImportError::Row { line, message };
        let union_slug = CampaignSlug::parse(&row.union_slug)
            .map_err(|_| bad(format!("union_slug {:?} is not a slug", row.union_slug)))?;
        let local_slug = slugify(&row.local);
        if local_slug.is_empty() {
            return Err(bad("local is empty".into()));
        }
        let member_count = match none_if_empty(&row.member_count) {
            None => None,
            Some(n) => Some(
                n.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| bad(format!("member_count {n:?} is not a whole number")))?,
            ),
        };
        let as_of = match none_if_empty(&row.member_count_as_of) {
            None => member_count.map(|_| now.date_naive()),
            Some(date) => Some(
                NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                    .map_err(|_| bad(format!("member_count_as_of {date:?} is not YYYY-MM-DD")))?,
            ),
        };

        let union = match union::Entity::find()
            .filter(union::Column::Slug.eq(union_slug.as_str()))
            .one(&txn)
            .await?
        {
            Some(union) => union,
            None => {
                let name = none_if_empty(&row.union_name).unwrap_or_else(|| union_slug.to_string());
                let short = none_if_empty(&row.union_short_name)
                    .unwrap_or_else(|| union_slug.as_str().to_uppercase());
                report.unions_created += 1;
                union::ActiveModel {
                    slug: Set(union_slug.as_str().to_owned()),
                    name: Set(name),
                    short_name: Set(short),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
            }
        };

        let existing = local::Entity::find()
            .filter(local::Column::UnionId.eq(union.id))
            .filter(local::Column::Slug.eq(&local_slug))
            .one(&txn)
            .await?;
        let count_changed = existing.as_ref().is_none_or(|l| {
            member_count.is_some()
                && (l.member_count != member_count || l.member_count_as_of != as_of)
        });
        let saved = match existing {
            Some(found) => {
                let mut active = found.into_active_model();
                active.name = Set(row.local.trim().to_owned());
                active.city = Set(none_if_empty(&row.city));
                active.region = Set(none_if_empty(&row.region));
                // An empty member count in a re-import keeps the count we have.
                if member_count.is_some() {
                    active.member_count = Set(member_count);
                    active.member_count_as_of = Set(as_of);
                }
                report.locals_updated += 1;
                active.update(&txn).await?
            }
            None => {
                report.locals_created += 1;
                local::ActiveModel {
                    union_id: Set(union.id),
                    name: Set(row.local.trim().to_owned()),
                    slug: Set(local_slug),
                    city: Set(none_if_empty(&row.city)),
                    region: Set(none_if_empty(&row.region)),
                    member_count: Set(member_count),
                    member_count_as_of: Set(as_of),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
            }
        };
        if let (true, Some(count), Some(as_of)) = (count_changed, member_count, as_of) {
            member_count::ActiveModel {
                local_id: Set(saved.id),
                member_count: Set(count),
                as_of: Set(as_of),
                recorded_at: Set(now),
                recorded_by: Set("import".to_owned()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(report)
}
