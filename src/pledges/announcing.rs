//! Telling pledgers: when a local or a whole pledge reaches its threshold, or its deadline
//! passes unmet, an announcement waits for an organizer to release it (or is released at
//! once, if the campaign says so). Released, it goes to every confirmed pledger concerned
//! and to the local's officers through the outbox, in batches: each batch's mail and the
//! cursor that marks it done commit together, so a restart neither repeats nor skips
//! anyone. Once sent, an announcement stands.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr, sea_query::OnConflict,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    accounts::access::{self, Caller},
    audit::audit_entry,
    domain::{Grant, Language, SignatureStatus},
    entities::{announcement, campaign, campaign_local, role_grant, signature, user},
    live::effects::Effects,
    mail::{self, AnnouncementNews},
    store::campaigns,
    store::db,
    views::AnnouncementLine,
};

/// Pledgers told per transaction.
pub const BATCH: u64 = 200;

/// The longest message an organizer may send.
pub const MAX_MESSAGE: usize = 5_000;

pub use crate::domain::AnnouncementKind;

fn scope_key(local_id: Option<i64>) -> String {
    local_id.map_or_else(|| "campaign".to_owned(), |id| format!("local:{id}"))
}

/// Opens the announcement of a threshold reached (or a deadline unmet), once per scope
/// and kind. Call it in the transaction that crossed.
pub async fn open(
    txn: &impl ConnectionTrait,
    campaign: &campaign::Model,
    local_id: Option<i64>,
    kind: AnnouncementKind,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let message = match kind {
        AnnouncementKind::Reached => &campaign.reached_message,
        AnnouncementKind::Unmet => &campaign.unmet_message,
    };
    let released = campaign.auto_release && !message.is_empty();
    announcement::Entity::insert(announcement::ActiveModel {
        campaign_id: Set(campaign.id),
        local_id: Set(local_id),
        scope_key: Set(scope_key(local_id)),
        kind: Set(kind),
        message: Set(message.clone()),
        created_at: Set(now),
        released_at: Set(released.then_some(now)),
        released_by: Set(released.then(|| "automatic".to_owned())),
        cursor: Set(None),
        finished_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            announcement::Column::CampaignId,
            announcement::Column::ScopeKey,
            announcement::Column::Kind,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("only the campaign's organizers release its announcements")]
    Forbidden,
    #[error("no such announcement")]
    Unknown,
    #[error("this announcement has already been released")]
    AlreadyReleased,
    #[error("write the message pledgers will receive")]
    NoMessage,
    #[error("the message is longer than {MAX_MESSAGE} characters")]
    TooLong,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// An organizer releases an announcement with its message; it is sent from then on.
pub async fn release(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    announcement_id: i64,
    message: &str,
    now: DateTime<Utc>,
) -> Result<Effects, ReleaseError> {
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .ok_or(ReleaseError::Unknown)?;
    if !access::edits_campaign(caller, campaign.id) {
        return Err(ReleaseError::Forbidden);
    }
    let message = message.trim().replace("\r\n", "\n");
    if message.is_empty() {
        return Err(ReleaseError::NoMessage);
    }
    if message.chars().count() > MAX_MESSAGE {
        return Err(ReleaseError::TooLong);
    }
    let txn = db::begin_write(db).await?;
    let released = announcement::Entity::update_many()
        .col_expr(announcement::Column::Message, Expr::value(message.clone()))
        .col_expr(announcement::Column::ReleasedAt, Expr::value(now))
        .col_expr(
            announcement::Column::ReleasedBy,
            Expr::value(caller.label()),
        )
        .filter(announcement::Column::Id.eq(announcement_id))
        .filter(announcement::Column::CampaignId.eq(campaign.id))
        .filter(announcement::Column::ReleasedAt.is_null())
        .exec(&txn)
        .await?;
    if released.rows_affected != 1 {
        let exists = announcement::Entity::find_by_id(announcement_id)
            .filter(announcement::Column::CampaignId.eq(campaign.id))
            .one(&txn)
            .await?
            .is_some();
        return Err(if exists {
            ReleaseError::AlreadyReleased
        } else {
            ReleaseError::Unknown
        });
    }
    audit_entry(
        &txn,
        &caller.label(),
        "pledge.announcement_released",
        json!({ "campaign": campaign.slug, "announcement": announcement_id }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Effects::none().judge_pledges())
}

/// A campaign's announcements, oldest first, for its organizers' dashboard.
pub async fn list(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    labels: &BTreeMap<i64, String>,
) -> Result<Vec<AnnouncementLine>, DbErr> {
    let rfc3339 = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    Ok(announcement::Entity::find()
        .filter(announcement::Column::CampaignId.eq(campaign_id))
        .order_by_asc(announcement::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AnnouncementLine {
            id: a.id,
            scope: a.local_id.map(|id| {
                labels
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("local {id}"))
            }),
            kind: a.kind,
            message: a.message,
            created_at: rfc3339(a.created_at),
            released_at: a.released_at.map(rfc3339),
            finished: a.finished_at.is_some(),
        })
        .collect())
}

/// Sends the next batch of one released announcement; false when none is left to send.
pub async fn send_step(
    db: &DatabaseConnection,
    public_url: &str,
    batch: u64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(found) = announcement::Entity::find()
        .filter(announcement::Column::ReleasedAt.is_not_null())
        .filter(announcement::Column::FinishedAt.is_null())
        .order_by_asc(announcement::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let Some(campaign) = campaign::Entity::find_by_id(found.campaign_id)
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let news = match (found.kind, found.local_id) {
        (AnnouncementKind::Unmet, _) => AnnouncementNews::Unmet,
        (_, Some(_)) => AnnouncementNews::LocalReached,
        (_, None) => AnnouncementNews::CampaignReached,
    };
    let mut pledgers = signature::Entity::find()
        .select_only()
        .columns([
            signature::Column::Id,
            signature::Column::Email,
            signature::Column::Language,
        ])
        .filter(signature::Column::CampaignId.eq(campaign.id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .filter(signature::Column::Email.ne(""))
        .order_by_asc(signature::Column::Id)
        .limit(batch);
    if let Some(local_id) = found.local_id {
        pledgers = pledgers.filter(signature::Column::LocalId.eq(local_id));
    }
    if let Some(cursor) = found.cursor {
        pledgers = pledgers.filter(signature::Column::Id.gt(cursor));
    }
    let pledgers: Vec<(Uuid, String, String)> = pledgers.into_tuple().all(db).await?;

    let mut titles = HashMap::new();
    let url = format!("{}/c/{}", public_url.trim_end_matches('/'), campaign.slug);
    let mut drafts = Vec::with_capacity(pledgers.len());
    for (_, email, language) in &pledgers {
        let language = Language::parse(language).unwrap_or_default();
        if let std::collections::hash_map::Entry::Vacant(entry) = titles.entry(language) {
            entry.insert(title_in(db, &campaign, language).await?);
        }
        drafts.push(mail::announcement(
            email,
            language,
            news,
            &titles[&language],
            &found.message,
            &url,
        ));
    }
    let finishing = pledgers.is_empty();
    if finishing {
        let language = Language::parse(&campaign.default_language).unwrap_or_default();
        let title = title_in(db, &campaign, language).await?;
        for email in officers(db, &campaign, found.local_id).await? {
            drafts.push(mail::announcement(
                &email,
                language,
                news,
                &title,
                &found.message,
                &url,
            ));
        }
    }

    let txn = db::begin_write(db).await?;
    // Moves the cursor from where this step read it: a second sender that got there
    // first makes this one write nothing.
    let mut claim =
        announcement::Entity::update_many().filter(announcement::Column::Id.eq(found.id));
    claim = match found.cursor {
        Some(cursor) => claim.filter(announcement::Column::Cursor.eq(cursor)),
        None => claim.filter(announcement::Column::Cursor.is_null()),
    };
    claim = if finishing {
        claim
            .col_expr(announcement::Column::FinishedAt, Expr::value(now))
            .filter(announcement::Column::FinishedAt.is_null())
    } else {
        let last = pledgers.last().map(|(id, _, _)| *id);
        claim.col_expr(announcement::Column::Cursor, Expr::value(last))
    };
    if claim.exec(&txn).await?.rows_affected != 1 {
        return Ok(true);
    }
    for draft in drafts {
        mail::enqueue(&txn, draft, now).await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// The campaign's title in `language` (or its nearest), for a mail.
async fn title_in(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    language: Language,
) -> Result<String, DbErr> {
    Ok(campaigns::current_text(db, campaign, language)
        .await?
        .map_or_else(|| campaign.slug.clone(), |text| text.title))
}

/// The addresses of the officers of the local (or, for the whole campaign, of its
/// locals) who have an account in use.
async fn officers(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    local_id: Option<i64>,
) -> Result<Vec<String>, DbErr> {
    let locals: Vec<i64> = match local_id {
        Some(id) => vec![id],
        None => {
            campaign_local::Entity::find()
                .select_only()
                .column(campaign_local::Column::LocalId)
                .filter(campaign_local::Column::CampaignId.eq(campaign.id))
                .into_tuple()
                .all(db)
                .await?
        }
    };
    let officer = Grant::Officer { local_id: 0 }.columns().0;
    let user_ids: Vec<i64> = role_grant::Entity::find()
        .select_only()
        .column(role_grant::Column::UserId)
        .distinct()
        .filter(role_grant::Column::Role.eq(officer))
        .filter(role_grant::Column::LocalId.is_in(locals))
        .into_tuple()
        .all(db)
        .await?;
    user::Entity::find()
        .select_only()
        .column(user::Column::Email)
        .filter(user::Column::Id.is_in(user_ids))
        .filter(user::Column::DisabledAt.is_null())
        .into_tuple()
        .all(db)
        .await
}

/// Sends every released announcement to the end; the number of steps taken.
pub async fn send_all(
    db: &DatabaseConnection,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let mut steps = 0;
    while send_step(db, public_url, BATCH, now).await? {
        steps += 1;
    }
    Ok(steps)
}
