//! Campaigns as the public pages and the JSON API show them: the stored text, sponsors
//! and locals, with the live tally from the hub.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    domain::{CampaignStatus, Language, clock::rfc3339, render_markdown},
    entities::campaign::{self, is_pledge, rule_of},
    live::hub::TallyHub,
    store::{
        campaigns::{
            accepts_signatures, by_slug, current_text, is_public, languages, signing_locals,
            sponsors, union_view,
        },
        tally,
    },
    views::{CampaignDetail, CampaignSummary},
};

/// Open campaigns for the front page and `GET /api/v1/campaigns`, newest first.
pub async fn open_campaigns(
    db: &impl ConnectionTrait,
    hub: &TallyHub,
    language: Language,
) -> Result<Vec<CampaignSummary>, DbErr> {
    let campaigns = campaign::Entity::find()
        .filter(campaign::Column::Status.eq(CampaignStatus::Open))
        .order_by_desc(campaign::Column::CreatedAt)
        .all(db)
        .await?;
    let mut summaries = Vec::with_capacity(campaigns.len());
    for campaign in campaigns {
        let Some(text) = current_text(db, &campaign, language).await? else {
            continue;
        };
        let (tally, _) = hub.view(&campaign).await?;
        summaries.push(CampaignSummary {
            slug: campaign.slug,
            kind: campaign.kind,
            title: text.title,
            summary: text.summary,
            addressee: campaign.addressee,
            language: Language::parse(&text.language).unwrap_or_default(),
            total: tally.total,
            goal: tally.goal,
            is_demo: campaign.is_demo,
        });
    }
    Ok(summaries)
}

/// One campaign as its page shows it. Drafts are not shown to the public.
pub async fn campaign_detail(
    db: &impl ConnectionTrait,
    hub: &TallyHub,
    slug: &str,
    language: Language,
    now: DateTime<Utc>,
    public_url: &str,
) -> Result<Option<CampaignDetail>, DbErr> {
    let Some(campaign) = by_slug(db, slug).await? else {
        return Ok(None);
    };
    if !is_public(&campaign) {
        return Ok(None);
    }
    let Some(text) = current_text(db, &campaign, language).await? else {
        return Ok(None);
    };
    let sponsors = sponsors(db, campaign.id).await?;
    let locals = signing_locals(db, campaign.id, &sponsors).await?;
    let (tally, series) = hub.view(&campaign).await?;
    let rule = rule_of(&campaign);
    let pledge = (is_pledge(&campaign) && rule.is_set()).then_some(rule);
    Ok(Some(CampaignDetail {
        url: format!("{}/c/{}", public_url.trim_end_matches('/'), campaign.slug),
        accepting: accepts_signatures(&campaign, now),
        kind: campaign.kind,
        status: campaign.status,
        languages: languages(db, campaign.id).await?,
        slug: campaign.slug,
        addressee: campaign.addressee,
        title: text.title,
        summary: text.summary,
        body_html: render_markdown(&text.body_md),
        language: Language::parse(&text.language).unwrap_or_default(),
        text_version: text.version,
        sponsors: sponsors.into_iter().map(union_view).collect(),
        locals,
        allow_community: campaign.allow_community,
        goal: campaign.goal.map(tally::non_negative),
        opens_at: campaign.opens_at.map(rfc3339),
        closes_at: campaign.closes_at.map(rfc3339),
        is_demo: campaign.is_demo,
        pledge,
        tally,
        series,
        form_stamp: None,
    }))
}
