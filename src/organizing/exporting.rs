//! Exporting a campaign's signers as CSV (RFC 4180, UTF-8), for the bargaining table and
//! for organizing tools.
//!
//! Only confirmed signatures leave: a pending row is just an address someone typed, and
//! a withdrawn one was taken back. Rows are limited to what the caller may see
//! (`access::signer_scope`) and to the filters given. The audit entry (who, the filters,
//! the rows promised) is committed before the first byte goes out. Rows are streamed
//! from a database cursor on a pool of their own through a bounded channel, so an export
//! of any size holds a few chunks in memory and leaves the signing pool alone.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::{
    accounts::access::{Caller, SignerScope, signer_scope},
    audit::audit_entry,
    domain::SignatureStatus,
    domain::clock::rfc3339,
    entities::{campaign_text, signature},
    store::campaigns,
    store::tally::Directory,
};

/// The columns an export has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Every column we keep that an organizer may need (docs/formats.md).
    #[default]
    Full,
    /// Headers organizing tools such as Action Network import without mapping.
    Organizing,
    /// Action Network's uploader: its own field names first, matched without manual
    /// matching (help.actionnetwork.org, "File formats for list uploads"), then ours as
    /// custom fields, and the phone as digits only, country code first.
    ActionNetwork,
}

impl Preset {
    pub fn parse(input: &str) -> Option<Preset> {
        match input {
            "" | "full" => Some(Preset::Full),
            "organizing" => Some(Preset::Organizing),
            "action_network" => Some(Preset::ActionNetwork),
            _ => None,
        }
    }

    fn headers(self) -> &'static [&'static str] {
        match self {
            Preset::Full => &[
                "signature_id",
                "given_name",
                "family_name",
                "email",
                "postal_code",
                "phone",
                "employer",
                "union",
                "local",
                "local_id",
                "language",
                "text_version",
                "verified_by",
                "signed_at",
                "confirmed_at",
                "name_shown_publicly",
            ],
            Preset::Organizing => &[
                "first_name",
                "last_name",
                "email",
                "zip_code",
                "phone",
                "union",
                "local",
                "signed_at",
                "confirmed_at",
            ],
            Preset::ActionNetwork => &[
                "first_name",
                "last_name",
                "email",
                "zip_code",
                "phone",
                "union",
                "local",
                "local_id",
                "verified_by",
                "signed_at",
                "confirmed_at",
                "updates",
            ],
        }
    }
}

/// A phone number as digits only, country code first (E.164 without the `+`): as typed
/// after a `+`; ten digits are a North American number (`1` before them); anything else
/// keeps its digits as typed, for the organizer to check.
pub fn phone_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if !phone.trim_start().starts_with('+') && digits.len() == 10 {
        format!("1{digits}")
    } else {
        digits
    }
}

/// Which signers to export, within what the caller may see.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filter {
    /// A sponsoring union's slug.
    pub union: Option<String>,
    pub local: Option<i64>,
    /// Community supporters only (no local).
    pub supporters_only: bool,
    /// Only those confirmed by mail, or only those entered from paper; both if `None`.
    pub verified_by: Option<VerifiedBy>,
    /// Confirmed at or after.
    pub since: Option<DateTime<Utc>>,
    /// Confirmed before.
    pub until: Option<DateTime<Utc>>,
}

/// How a confirmed signature came to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifiedBy {
    /// The signer pressed the link in their mail.
    Email,
    /// An officer entered it from a paper sheet.
    Paper,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no campaign with that slug")]
    UnknownCampaign,
    /// The caller may see none of this campaign's signers, or not the ones asked for.
    #[error("you may not export these signers")]
    Forbidden,
    #[error("no sponsoring union {0:?}")]
    UnknownUnion(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A started export: how many rows it promised, and the CSV as it comes.
pub struct Export {
    pub rows: u64,
    pub file_name: String,
    pub body: mpsc::Receiver<Result<Bytes, DbErr>>,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    local_id: Option<i64>,
    given_name: String,
    family_name: String,
    email: String,
    employer: Option<String>,
    postal_code: Option<String>,
    phone: Option<String>,
    language: String,
    text_id: i64,
    show_name: bool,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    attested_by: Option<String>,
}

/// Rows go out in chunks of about this many bytes.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for a slow client; past this the cursor waits.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Starts exporting `slug`'s signers for `caller`. `db` reads the campaign and writes the
/// audit entry; `export_db` streams the rows.
pub async fn export(
    db: &DatabaseConnection,
    export_db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    filter: &Filter,
    preset: Preset,
    now: DateTime<Utc>,
) -> Result<Export, ExportError> {
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .ok_or(ExportError::UnknownCampaign)?;
    let directory = campaigns::directory(db, &campaign).await?;
    let scope = signer_scope(caller, &campaign, &directory).ok_or(ExportError::Forbidden)?;
    let mut query = rows_query(campaign.id, &scope, filter, &directory)?;
    // A sealed pledge names nobody in a local that has not reached its threshold.
    if let Some(open) = crate::pledges::unsealed_locals(&campaign, &directory) {
        query = query.filter(signature::Column::LocalId.is_in(open));
    }
    let rows = query.clone().count(export_db).await?;
    audit_entry(
        db,
        &caller.label(),
        "export",
        json!({
            "campaign": campaign.slug,
            "filter": filter,
            "preset": preset,
            "rows": rows,
            "scope": match &scope {
                SignerScope::Everyone => json!("everyone"),
                SignerScope::Locals(locals) => json!(locals),
            },
        }),
        now,
    )
    .await?;

    let versions: HashMap<i64, i32> = campaign_text::Entity::find()
        .filter(campaign_text::Column::CampaignId.eq(campaign.id))
        .all(db)
        .await?
        .into_iter()
        .map(|text| (text.id, text.version))
        .collect();
    let (sender, body) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let export_db = export_db.clone();
    tokio::spawn(async move {
        let names = Names {
            directory,
            versions,
        };
        if let Err(err) = stream_rows(&export_db, query, preset, &names, &sender).await {
            tracing::error!(error = ?err, "an export stopped part-way");
            // The client sees the body end in an error, not a short file that looks whole.
            let _ = sender.send(Err(err)).await;
        }
    });
    Ok(Export {
        rows,
        file_name: format!(
            "{}-signatures-{}.csv",
            campaign.slug,
            now.format("%Y-%m-%d")
        ),
        body,
    })
}

fn rows_query(
    campaign_id: i64,
    scope: &SignerScope,
    filter: &Filter,
    directory: &Directory,
) -> Result<Select<signature::Entity>, ExportError> {
    let mut query = signature::Entity::find()
        .select_only()
        .columns([
            signature::Column::Id,
            signature::Column::LocalId,
            signature::Column::GivenName,
            signature::Column::FamilyName,
            signature::Column::Email,
            signature::Column::Employer,
            signature::Column::PostalCode,
            signature::Column::Phone,
            signature::Column::Language,
            signature::Column::TextId,
            signature::Column::ShowName,
            signature::Column::CreatedAt,
            signature::Column::ConfirmedAt,
            signature::Column::AttestedBy,
        ])
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed));

    // What the caller may see, narrowed by what they asked for.
    let mut locals: Option<BTreeSet<i64>> = match scope {
        SignerScope::Everyone => None,
        SignerScope::Locals(locals) => Some(locals.clone()),
    };
    let mut narrow = |wanted: BTreeSet<i64>| {
        locals = Some(match locals.take() {
            Some(allowed) => allowed.intersection(&wanted).copied().collect(),
            None => wanted,
        });
    };
    if let Some(slug) = &filter.union {
        let union_id = directory
            .union_id(slug)
            .ok_or_else(|| ExportError::UnknownUnion(slug.clone()))?;
        narrow(
            directory
                .locals
                .values()
                .filter(|l| directory.union_id(&l.union) == Some(union_id))
                .map(|l| l.id)
                .collect(),
        );
    }
    if let Some(local) = filter.local {
        if !scope.includes_local(Some(local)) {
            return Err(ExportError::Forbidden);
        }
        narrow(BTreeSet::from([local]));
    }
    // Asking by name for signers outside the scope is refused, not answered empty.
    let asked = filter.union.is_some() || filter.local.is_some();
    if asked && locals.as_ref().is_some_and(BTreeSet::is_empty) {
        return Err(ExportError::Forbidden);
    }
    if filter.supporters_only {
        if *scope != SignerScope::Everyone {
            return Err(ExportError::Forbidden);
        }
        query = query.filter(signature::Column::LocalId.is_null());
    } else if let Some(locals) = locals {
        query = query.filter(
            Condition::all()
                .add(signature::Column::LocalId.is_in(locals.into_iter().collect::<Vec<_>>())),
        );
    }
    match filter.verified_by {
        Some(VerifiedBy::Email) => query = query.filter(signature::Column::AttestedBy.is_null()),
        Some(VerifiedBy::Paper) => {
            query = query.filter(signature::Column::AttestedBy.is_not_null());
        }
        None => {}
    }
    if let Some(since) = filter.since {
        query = query.filter(signature::Column::ConfirmedAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(signature::Column::ConfirmedAt.lt(until));
    }
    // UUIDv7 ids grow with time: oldest first, straight off the primary key.
    Ok(query.order_by_asc(signature::Column::Id))
}

struct Names {
    directory: Directory,
    versions: HashMap<i64, i32>,
}

async fn stream_rows(
    export_db: &DatabaseConnection,
    query: Select<signature::Entity>,
    preset: Preset,
    names: &Names,
    sender: &mpsc::Sender<Result<Bytes, DbErr>>,
) -> Result<(), DbErr> {
    let mut csv = writer();
    csv.write_record(preset.headers()).map_err(csv_failed)?;
    let mut rows = query.into_model::<Row>().stream(export_db).await?;
    while let Some(row) = rows.try_next().await? {
        write_row(&mut csv, &row, preset, names)?;
        if csv.get_ref().len() >= CHUNK {
            let chunk = take(&mut csv)?;
            if sender.send(Ok(chunk)).await.is_err() {
                // The client went away; the cursor closes as `rows` drops.
                return Ok(());
            }
        }
    }
    let last = take(&mut csv)?;
    if !last.is_empty() {
        let _ = sender.send(Ok(last)).await;
    }
    Ok(())
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(CHUNK * 2))
}

/// What has been written so far, leaving a fresh writer in its place.
fn take(csv: &mut csv::Writer<Vec<u8>>) -> Result<Bytes, DbErr> {
    let full = std::mem::replace(csv, writer());
    full.into_inner()
        .map(Bytes::from)
        .map_err(|err| DbErr::Custom(format!("export: {}", err.error())))
}

fn csv_failed(err: csv::Error) -> DbErr {
    DbErr::Custom(format!("export: {err}"))
}

fn write_row(
    csv: &mut csv::Writer<Vec<u8>>,
    row: &Row,
    preset: Preset,
    names: &Names,
) -> Result<(), DbErr> {
    let local = row.local_id.and_then(|id| names.directory.locals.get(&id));
    let union = local.map_or("", |l| l.union_short_name.as_str());
    let local_name = local.map_or("Community supporter", |l| l.name.as_str());
    let signed_at = rfc3339(row.created_at);
    let confirmed_at = row.confirmed_at.map(rfc3339).unwrap_or_default();
    let optional = |value: &Option<String>| value.clone().unwrap_or_default();
    let record: Vec<String> = match preset {
        Preset::Full => vec![
            row.id.to_string(),
            row.given_name.clone(),
            row.family_name.clone(),
            row.email.clone(),
            optional(&row.postal_code),
            optional(&row.phone),
            optional(&row.employer),
            union.to_owned(),
            local_name.to_owned(),
            row.local_id.map(|id| id.to_string()).unwrap_or_default(),
            row.language.clone(),
            names
                .versions
                .get(&row.text_id)
                .map(|v| v.to_string())
                .unwrap_or_default(),
            match &row.attested_by {
                Some(by) => format!("paper, entered by {by}"),
                None => "email".to_owned(),
            },
            signed_at,
            confirmed_at,
            if row.show_name { "yes" } else { "no" }.to_owned(),
        ],
        Preset::Organizing => vec![
            row.given_name.clone(),
            row.family_name.clone(),
            row.email.clone(),
            optional(&row.postal_code),
            optional(&row.phone),
            union.to_owned(),
            local_name.to_owned(),
            signed_at,
            confirmed_at,
        ],
        Preset::ActionNetwork => vec![
            row.given_name.clone(),
            row.family_name.clone(),
            row.email.clone(),
            optional(&row.postal_code),
            row.phone.as_deref().map(phone_digits).unwrap_or_default(),
            union.to_owned(),
            local_name.to_owned(),
            row.local_id.map(|id| id.to_string()).unwrap_or_default(),
            // The column says how, not who: the officer's address stays in the full export.
            if row.attested_by.is_some() {
                "paper"
            } else {
                "email"
            }
            .to_owned(),
            signed_at,
            confirmed_at,
            // Nobody signing here is asked for updates yet: no one is subscribed by this
            // file (Action Network subscribes an upload's new people unless told not to).
            "no".to_owned(),
        ],
    };
    csv.write_record(record.iter().map(|cell| neutralise(cell).into_owned()))
        .map_err(csv_failed)
}

/// A cell a spreadsheet would read as a formula is prefixed with `'` (OWASP's advice for
/// CSV injection): `=`, `+`, `-`, `@`, and the tab and carriage return that hide them.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_starts_like_a_formula_is_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1 555 0100"), "'+1 555 0100");
        assert_eq!(neutralise("-2"), "'-2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\t=1"), "'\t=1");
    }

    #[test]
    fn an_ordinary_cell_is_left_alone() {
        assert_eq!(neutralise("Ana María"), "Ana María");
        assert_eq!(neutralise("a=b"), "a=b");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn presets_parse_by_name() {
        assert_eq!(Preset::parse(""), Some(Preset::Full));
        assert_eq!(Preset::parse("organizing"), Some(Preset::Organizing));
        assert_eq!(Preset::parse("action_network"), Some(Preset::ActionNetwork));
        assert_eq!(Preset::parse("excel"), None);
    }

    #[test]
    fn a_phone_goes_to_action_network_as_digits_country_code_first() {
        assert_eq!(phone_digits("+1 312 555 0100"), "13125550100");
        assert_eq!(phone_digits("(312) 555-0100"), "13125550100");
        assert_eq!(phone_digits("+52 55 1234 5678"), "525512345678");
        assert_eq!(
            phone_digits("020 7946 0958"),
            "02079460958",
            "kept as typed"
        );
    }
}
