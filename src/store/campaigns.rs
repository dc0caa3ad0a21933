//! Reading campaigns as the public sees them: the open list, one campaign with its
//! text in the reader's language, its sponsors and the locals that can sign.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, SelectA, SelectB,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};

use crate::{
    domain::{CampaignStatus, Language, LocalChoice, SignatureStatus},
    entities::{
        campaign::{self, is_pledge, rule_of},
        campaign_local, campaign_sponsor, campaign_text, local, signature, union,
    },
    store::db::WrittenOnce,
    store::tally::{self, Directory, Standing, non_negative},
    views::{LocalView, UnionView},
};

/// How long after a campaign closes its pending signatures may still be confirmed:
/// someone who signed at the last minute deserves a day to find the mail.
pub const CONFIRM_GRACE: Duration = Duration::hours(24);

/// Whether a campaign takes new signatures at `now`.
pub fn accepts_signatures(campaign: &campaign::Model, now: DateTime<Utc>) -> bool {
    campaign.status == CampaignStatus::Open
        && campaign.opens_at.is_none_or(|opens| opens <= now)
        && campaign.closes_at.is_none_or(|closes| now < closes)
}

/// Whether a signature made while the campaign was open may be confirmed at `now`.
pub fn accepts_confirmations(campaign: &campaign::Model, now: DateTime<Utc>) -> bool {
    let closed_or_open =
        campaign.status == CampaignStatus::Open || campaign.status == CampaignStatus::Closed;
    closed_or_open
        && campaign
            .closes_at
            .is_none_or(|closes| now < closes + CONFIRM_GRACE)
}

/// The campaign `campaign_id`, if it takes confirmations at `now`: what
/// [`accepts_confirmations`] asks of a campaign read, asked inside a write instead.
pub fn taking_confirmations(campaign_id: i64, now: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .column(campaign::Column::Id)
        .from(campaign::Entity)
        .and_where(campaign::Column::Id.eq(campaign_id))
        .and_where(campaign::Column::Status.is_in([CampaignStatus::Open, CampaignStatus::Closed]))
        .cond_where(
            Condition::any()
                .add(campaign::Column::ClosesAt.is_null())
                .add(campaign::Column::ClosesAt.gt(now - CONFIRM_GRACE)),
        )
        .to_owned()
}

pub async fn by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<campaign::Model>, DbErr> {
    campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// The newest version of the campaign's text in `language`, or else in the campaign's
/// default language, or else any. One row is read.
pub async fn current_text(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    language: Language,
) -> Result<Option<campaign_text::Model>, DbErr> {
    let texts =
        campaign_text::Entity::find().filter(campaign_text::Column::CampaignId.eq(campaign.id));
    newest_text_first(
        texts,
        language,
        Expr::val(campaign.default_language.as_str()),
    )
    .one(db)
    .await
}

/// What signing reads: the campaign, its [`current_text`] in the signer's language, and
/// whether the signer may sign as what they chose (a local, or a community supporter).
#[derive(Debug)]
pub struct ForSigning {
    pub campaign: campaign::Model,
    pub text: campaign_text::Model,
    pub may_sign: bool,
}

impl FromQueryResult for ForSigning {
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        // The prefixes a two-entity select gives its columns.
        Ok(Self {
            text: campaign_text::Model::from_query_result(row, SelectA.as_str())?,
            campaign: campaign::Model::from_query_result(row, SelectB.as_str())?,
            may_sign: row.try_get("", MAY_SIGN)?,
        })
    }
}

const MAY_SIGN: &str = "may_sign";

/// The signing query's SQL for a signer with a local.
static FOR_SIGNING_WITH_A_LOCAL: WrittenOnce = WrittenOnce::new();
/// The signing query's SQL for a community supporter.
static FOR_SIGNING_AS_A_SUPPORTER: WrittenOnce = WrittenOnce::new();

/// [`ForSigning`] for the campaign at `slug`, in one query: signing reads it every time.
/// None when no campaign has that address or it has no text.
pub async fn for_signing(
    db: &impl ConnectionTrait,
    slug: &str,
    language: Language,
    choice: LocalChoice,
) -> Result<Option<ForSigning>, DbErr> {
    let query = || {
        let campaign_column = |column| Expr::col((campaign::Entity, column));
        let may_sign = match choice {
            // EXISTS ignores what its subquery selects: a column, so no value is bound.
            LocalChoice::Local(local_id) => Expr::exists(
                Query::select()
                    .column(local::Column::Id)
                    .from(local::Entity)
                    .and_where(local::Column::Id.eq(local_id))
                    .cond_where(local_may_sign_condition(
                        campaign_column(campaign::Column::Id),
                        local_id,
                    ))
                    .to_owned(),
            ),
            LocalChoice::CommunitySupporter => campaign_column(campaign::Column::AllowCommunity),
        };
        let texts = campaign_text::Entity::find()
            .find_also_related(campaign::Entity)
            .filter(campaign::Column::Slug.eq(slug))
            .expr_as(may_sign, MAY_SIGN);
        newest_text_first(
            texts,
            language,
            campaign_column(campaign::Column::DefaultLanguage),
        )
        .limit(1)
        .into_query()
    };
    // The values in the order the SQL takes them: the local twice (which local it is, and
    // whether the campaign lists it), then the address, the language, the limit.
    let (written, mut values) = match choice {
        LocalChoice::Local(local_id) => (
            &FOR_SIGNING_WITH_A_LOCAL,
            vec![local_id.into(), local_id.into()],
        ),
        LocalChoice::CommunitySupporter => (&FOR_SIGNING_AS_A_SUPPORTER, Vec::new()),
    };
    values.extend([slug.into(), language.code().into(), 1u64.into()]);
    let statement = written.statement(db.get_database_backend(), query, values);
    ForSigning::find_by_statement(statement).one(db).await
}

/// Orders a campaign's texts: `language`'s first, then the default language's, each
/// newest version first.
fn newest_text_first<Q: QueryOrder>(query: Q, language: Language, default_language: Expr) -> Q {
    let language_is =
        |code: Expr| Expr::col((campaign_text::Entity, campaign_text::Column::Language)).eq(code);
    query
        .order_by_desc(language_is(Expr::val(language.code())))
        .order_by_desc(language_is(default_language))
        .order_by_desc(campaign_text::Column::Version)
}

pub(crate) async fn languages(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<Vec<Language>, DbErr> {
    let mut codes: Vec<String> = campaign_text::Entity::find()
        .select_only()
        .column(campaign_text::Column::Language)
        .distinct()
        .filter(campaign_text::Column::CampaignId.eq(campaign_id))
        .into_tuple()
        .all(db)
        .await?;
    codes.sort();
    Ok(codes
        .iter()
        .filter_map(|code| Language::parse(code).ok())
        .collect())
}

pub async fn sponsors(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<Vec<union::Model>, DbErr> {
    let ids: Vec<i64> = campaign_sponsor::Entity::find()
        .select_only()
        .column(campaign_sponsor::Column::UnionId)
        .filter(campaign_sponsor::Column::CampaignId.eq(campaign_id))
        .into_tuple()
        .all(db)
        .await?;
    union::Entity::find()
        .filter(union::Column::Id.is_in(ids))
        .order_by_asc(union::Column::Name)
        .all(db)
        .await
}

/// The locals that can sign a campaign: those it lists, or else every local of its
/// sponsoring unions. A pledge's locals carry the member count frozen when it opened.
/// Also the campaign's rows of listed locals.
async fn listed_locals(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unions: &[union::Model],
) -> Result<(Vec<LocalView>, Vec<campaign_local::Model>), DbErr> {
    let rows = campaign_local::Entity::find()
        .filter(campaign_local::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?;
    let mut query = local::Entity::find()
        .filter(local::Column::UnionId.is_in(unions.iter().map(|u| u.id)))
        .order_by_asc(local::Column::UnionId)
        .order_by_asc(local::Column::Id);
    if !rows.is_empty() {
        query = query.filter(local::Column::Id.is_in(rows.iter().map(|row| row.local_id)));
    }
    let frozen: BTreeMap<i64, Option<i64>> = rows
        .iter()
        .filter(|row| row.frozen_at.is_some())
        .map(|row| (row.local_id, row.member_count))
        .collect();
    let locals = query
        .all(db)
        .await?
        .into_iter()
        .filter_map(|local| {
            let union = unions.iter().find(|u| u.id == local.union_id)?;
            let member_count = frozen.get(&local.id).copied().unwrap_or(local.member_count);
            Some(LocalView {
                id: local.id,
                union: union.slug.clone(),
                union_short_name: union.short_name.clone(),
                name: local.name,
                city: local.city,
                region: local.region,
                member_count: member_count.map(tally::non_negative),
            })
        })
        .collect();
    Ok((locals, rows))
}

/// The locals that can sign a campaign (see [`listed_locals`]).
pub async fn signing_locals(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unions: &[union::Model],
) -> Result<Vec<LocalView>, DbErr> {
    Ok(listed_locals(db, campaign_id, unions).await?.0)
}

pub(crate) fn union_view(union: union::Model) -> UnionView {
    UnionView {
        id: union.id,
        slug: union.slug,
        name: union.name,
        short_name: union.short_name,
    }
}

/// The unions and locals that sign a campaign, as its public tally names them, and for
/// a pledge where each local stands.
pub async fn directory(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
) -> Result<Directory, DbErr> {
    let sponsors = sponsors(db, campaign.id).await?;
    let (locals, rows) = listed_locals(db, campaign.id, &sponsors).await?;
    let standing = if is_pledge(campaign) {
        standing(db, campaign, &rows).await?
    } else {
        BTreeMap::new()
    };
    Ok(Directory {
        unions: sponsors.into_iter().map(union_view).collect(),
        locals: locals.into_iter().map(|local| (local.id, local)).collect(),
        standing,
    })
}

/// Whether `local_id` may sign: a local of one of the campaign's sponsoring unions, and
/// one it lists, if it lists any.
pub async fn local_can_sign(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    local_id: i64,
) -> Result<bool, DbErr> {
    let found = local::Entity::find_by_id(local_id)
        .filter(local_may_sign_condition(Expr::val(campaign_id), local_id))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// What [`local_can_sign`] asks of the local's row, for the campaign `campaign_id` (a
/// value, or the column of a campaign read in the same query).
fn local_may_sign_condition(campaign_id: Expr, local_id: i64) -> Condition {
    let sponsor = |column| Expr::col((campaign_sponsor::Entity, column));
    // EXISTS rather than IN: SQLite fills a temporary table for an IN subquery.
    let sponsored = Expr::exists(
        Query::select()
            .column(campaign_sponsor::Column::UnionId)
            .from(campaign_sponsor::Entity)
            .and_where(sponsor(campaign_sponsor::Column::CampaignId).eq(campaign_id.clone()))
            .and_where(
                sponsor(campaign_sponsor::Column::UnionId)
                    .equals((local::Entity, local::Column::UnionId)),
            )
            .to_owned(),
    );
    let listed = |also_local: bool| {
        let mut rows = Query::select();
        rows.column(campaign_local::Column::LocalId)
            .from(campaign_local::Entity)
            .and_where(
                Expr::col((campaign_local::Entity, campaign_local::Column::CampaignId))
                    .eq(campaign_id.clone()),
            );
        if also_local {
            rows.and_where(campaign_local::Column::LocalId.eq(local_id));
        }
        Expr::exists(rows.to_owned())
    };
    Condition::all()
        .add(sponsored)
        // A campaign that lists nobody takes every sponsor's locals.
        .add(Condition::any().add(listed(true)).add(listed(false).not()))
}

/// Whether the public may see a campaign: any but a draft.
pub fn is_public(campaign: &campaign::Model) -> bool {
    campaign.status != CampaignStatus::Draft
}

/// Where each of a pledge's listed locals stands: pledges needed, when it reached, and
/// how many withdrew since.
pub async fn standing(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    rows: &[campaign_local::Model],
) -> Result<BTreeMap<i64, Standing>, DbErr> {
    let rule = rule_of(campaign);
    let first_reached = rows.iter().filter_map(|row| row.reached_at).min();
    let mut withdrawn: Vec<(Option<i64>, Option<DateTime<Utc>>)> = Vec::new();
    if let Some(first) = first_reached {
        withdrawn = signature::Entity::find()
            .select_only()
            .columns([signature::Column::LocalId, signature::Column::WithdrawnAt])
            .filter(signature::Column::CampaignId.eq(campaign.id))
            .filter(signature::Column::Status.eq(SignatureStatus::Withdrawn))
            .filter(signature::Column::WithdrawnAt.gt(first))
            .into_tuple()
            .all(db)
            .await?;
    }
    Ok(rows
        .iter()
        .map(|row| {
            let withdrawn_since = row.reached_at.map_or(0, |reached| {
                withdrawn
                    .iter()
                    .filter(|(local, at)| {
                        *local == Some(row.local_id) && at.is_some_and(|at| at > reached)
                    })
                    .count() as u64
            });
            let standing = Standing {
                needed: rule.local_needs(row.member_count.map(non_negative)),
                reached_at: row.reached_at,
                withdrawn_since,
                proposed_member_count: row.proposed_member_count.map(non_negative),
            };
            (row.local_id, standing)
        })
        .collect())
}
