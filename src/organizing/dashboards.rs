//! Dashboards: a local's officer sees their local against its member count on every
//! campaign it can sign, with the trend and their own signers; an organizer sees a
//! campaign by status and its locals by share of membership. Each asks `access` first.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::{
    accounts::access::{self, Caller, SignerScope},
    domain::clock::rfc3339,
    domain::{Language, SignatureStatus, format_share_percent, share_of_membership},
    entities::{campaign, campaign_sponsor, local, signature, union},
    organizing::membership,
    pledges,
    pledges::announcing,
    store::campaigns,
    store::tally,
    views::{
        CampaignDashboard, DayCount, LocalDashboard, LocalProgress, LocalRow, LocalView,
        MemberCountEntry, SignerRow, StatusCounts,
    },
};

/// Days in a local's trend line.
const TREND_DAYS: i64 = 14;
/// Signers listed on a local's dashboard; the export has them all.
const RECENT: u64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("not found")]
    NotFound,
    #[error("your role does not cover this")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn share(count: u64, members: Option<u64>) -> Option<String> {
    share_of_membership(count, members).map(format_share_percent)
}

/// A local's dashboard, for its officer or an admin.
pub async fn local_dashboard(
    db: &impl ConnectionTrait,
    caller: &Caller,
    local_id: i64,
    now: DateTime<Utc>,
) -> Result<LocalDashboard, DashboardError> {
    if !access::keeps_local(caller, local_id) {
        return Err(DashboardError::Forbidden);
    }
    let found = local::Entity::find_by_id(local_id)
        .one(db)
        .await?
        .ok_or(DashboardError::NotFound)?;
    let its_union = union::Entity::find_by_id(found.union_id)
        .one(db)
        .await?
        .ok_or(DashboardError::NotFound)?;
    let members = found.member_count.map(tally::non_negative);
    let label = LocalView {
        id: found.id,
        union: its_union.slug.clone(),
        union_short_name: its_union.short_name.clone(),
        name: found.name.clone(),
        city: found.city.clone(),
        region: found.region.clone(),
        member_count: members,
    }
    .label();
    let sponsored: Vec<i64> = campaign_sponsor::Entity::find()
        .filter(campaign_sponsor::Column::UnionId.eq(found.union_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.campaign_id)
        .collect();
    let mut progress = Vec::new();
    for each in campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(sponsored))
        .filter(campaign::Column::Status.ne(crate::domain::CampaignStatus::Draft))
        .order_by_desc(campaign::Column::CreatedAt)
        .all(db)
        .await?
    {
        if campaigns::local_can_sign(db, each.id, local_id).await? {
            progress.push(local_progress(db, &each, local_id, members, now).await?);
        }
    }
    let history = membership::history(db, local_id)
        .await?
        .into_iter()
        .map(|entry| MemberCountEntry {
            member_count: tally::non_negative(entry.member_count),
            as_of: entry.as_of.to_string(),
            recorded_by: entry.recorded_by,
            recorded_at: rfc3339(entry.recorded_at),
        })
        .collect();
    Ok(LocalDashboard {
        local_id,
        label,
        member_count: members,
        member_count_as_of: found.member_count_as_of.map(|d| d.to_string()),
        history,
        campaigns: progress,
    })
}

#[derive(FromQueryResult)]
struct Recent {
    given_name: String,
    family_name: String,
    confirmed_at: Option<DateTime<Utc>>,
    attested_by: Option<String>,
}

async fn local_progress(
    db: &impl ConnectionTrait,
    found: &campaign::Model,
    local_id: i64,
    members: Option<u64>,
    now: DateTime<Utc>,
) -> Result<LocalProgress, DbErr> {
    let confirmed_here = || {
        signature::Entity::find()
            .filter(signature::Column::CampaignId.eq(found.id))
            .filter(signature::Column::LocalId.eq(local_id))
            .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
    };
    let counts = tally::counts(db, found.id).await?;
    let confirmed = counts.by_local.get(&local_id).copied().unwrap_or(0);
    let paper = confirmed_here()
        .filter(signature::Column::AttestedBy.is_not_null())
        .count(db)
        .await?;
    let since = (now - Duration::days(TREND_DAYS - 1)).date_naive();
    let times: Vec<Option<DateTime<Utc>>> = confirmed_here()
        .filter(
            signature::Column::ConfirmedAt.gte(since.and_time(chrono::NaiveTime::MIN).and_utc()),
        )
        .select_only()
        .column(signature::Column::ConfirmedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut days: BTreeMap<NaiveDate, u64> = (0..TREND_DAYS)
        .map(|n| (since + Duration::days(n), 0))
        .collect();
    for at in times.into_iter().flatten() {
        if let Some(count) = days.get_mut(&at.date_naive()) {
            *count += 1;
        }
    }
    let pledge = if crate::entities::campaign::is_pledge(found) {
        let directory = campaigns::directory(db, found).await?;
        pledges::standings(db, found, &directory, &counts)
            .await?
            .remove(&local_id)
    } else {
        None
    };
    let sealed = pledge.as_ref().is_some_and(|standing| standing.sealed);
    let recent = if sealed {
        Vec::new()
    } else {
        confirmed_here()
            .select_only()
            .columns([
                signature::Column::GivenName,
                signature::Column::FamilyName,
                signature::Column::ConfirmedAt,
                signature::Column::AttestedBy,
            ])
            .order_by_desc(signature::Column::ConfirmedAt)
            .limit(RECENT)
            .into_model::<Recent>()
            .all(db)
            .await?
            .into_iter()
            .map(|row| SignerRow {
                given_name: row.given_name,
                family_name: row.family_name,
                confirmed_at: row.confirmed_at.map(rfc3339).unwrap_or_default(),
                paper: row.attested_by.is_some(),
            })
            .collect()
    };
    let language = Language::parse(&found.default_language).unwrap_or_default();
    let title = campaigns::current_text(db, found, language)
        .await?
        .map(|text| text.title)
        .unwrap_or_else(|| found.slug.clone());
    Ok(LocalProgress {
        campaign_slug: found.slug.clone(),
        campaign_title: title,
        campaign_status: found.status,
        confirmed,
        paper,
        share: share(
            confirmed,
            pledge.as_ref().map_or(members, |p| p.member_count),
        ),
        pledge,
        trend: days
            .into_iter()
            .map(|(day, count)| DayCount {
                day: day.to_string(),
                count,
            })
            .collect(),
        recent,
    })
}

#[derive(FromQueryResult)]
struct StatusRow {
    local_id: Option<i64>,
    status: SignatureStatus,
    paper: bool,
    count: i64,
}

/// A campaign's dashboard for whoever may see any of its signers. Counts by status are
/// limited to the caller's scope; the locals' confirmed counts are shown to organizers
/// (of the campaign or of a sponsoring union), and officers see their own locals.
pub async fn campaign_dashboard(
    db: &impl ConnectionTrait,
    caller: &Caller,
    slug: &str,
) -> Result<CampaignDashboard, DashboardError> {
    let found = campaigns::by_slug(db, slug)
        .await?
        .ok_or(DashboardError::NotFound)?;
    let directory = campaigns::directory(db, &found).await?;
    let scope =
        access::signer_scope(caller, &found, &directory).ok_or(DashboardError::Forbidden)?;
    let organizer = access::organizing_scope(caller, &found, &directory).is_some();

    let rows = signature::Entity::find()
        .select_only()
        .column(signature::Column::LocalId)
        .column(signature::Column::Status)
        .column_as(signature::Column::AttestedBy.is_not_null(), "paper")
        .column_as(signature::Column::Id.count(), "count")
        .filter(signature::Column::CampaignId.eq(found.id))
        .group_by(signature::Column::LocalId)
        .group_by(signature::Column::Status)
        .group_by(signature::Column::AttestedBy.is_not_null())
        .into_model::<StatusRow>()
        .all(db)
        .await?;
    let mut status = StatusCounts::default();
    for row in rows.iter().filter(|r| scope.includes_local(r.local_id)) {
        let count = tally::non_negative(row.count);
        match row.status {
            SignatureStatus::Pending => status.pending += count,
            SignatureStatus::Confirmed => {
                status.confirmed += count;
                if row.paper {
                    status.paper += count;
                }
            }
            SignatureStatus::Withdrawn => status.withdrawn += count,
            SignatureStatus::Invalidated => status.invalidated += count,
        }
    }
    let counts = tally::counts(db, found.id).await?;
    let mut standings = pledges::standings(db, &found, &directory, &counts).await?;
    let mut locals: Vec<LocalRow> = directory
        .locals
        .values()
        .filter(|l| organizer || scope.includes_local(Some(l.id)))
        .map(|l| {
            let confirmed = counts.by_local.get(&l.id).copied().unwrap_or(0);
            LocalRow {
                local_id: l.id,
                union: l.union_short_name.clone(),
                label: l.label(),
                confirmed,
                member_count: l.member_count,
                share: share(confirmed, l.member_count),
                pledge: standings.remove(&l.id),
            }
        })
        .collect();
    // Highest share first; locals without a member count after, by count.
    locals.sort_by(|a, b| {
        let share = |row: &LocalRow| share_of_membership(row.confirmed, row.member_count);
        share(b)
            .partial_cmp(&share(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.confirmed.cmp(&a.confirmed))
    });
    let language = Language::parse(&found.default_language).unwrap_or_default();
    let title = campaigns::current_text(db, &found, language)
        .await?
        .map(|text| text.title)
        .unwrap_or_else(|| found.slug.clone());
    let can_edit = access::edits_campaign(caller, found.id);
    let announcements = if can_edit {
        let labels = directory
            .locals
            .values()
            .map(|l| (l.id, l.label()))
            .collect();
        announcing::list(db, found.id, &labels).await?
    } else {
        Vec::new()
    };
    let collisions = crate::organizing::collisions::waiting(db, caller, &found, &directory).await?;
    let rule = crate::entities::campaign::rule_of(&found);
    Ok(CampaignDashboard {
        collisions,
        pledge: crate::entities::campaign::state_of(&found).map(|_| rule),
        state: crate::entities::campaign::state_of(&found),
        reached_at: found.reached_at.map(rfc3339),
        announcements,
        slug: found.slug,
        title,
        status,
        locals,
        community_supporters: matches!(scope, SignerScope::Everyone)
            .then_some(counts.community_supporters),
        can_moderate: organizer,
        can_edit,
    })
}
