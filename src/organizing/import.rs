//! Loading data from files: locals from CSV and campaigns from TOML (formats in
//! `docs/formats.md`). Re-importing updates what is there and never duplicates it.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, TryIntoModel,
};
use serde::Deserialize;

use crate::{
    domain::CampaignId,
    domain::{
        CampaignKind, CampaignSlug, CampaignStatus, Language, PledgeRule, PrivacyChange,
        PrivacySettings, PrivacyWeakened, PublicBreakdown, WithoutMemberCount, only_stricter,
        text_sha256,
    },
    entities::{audit, campaign, campaign_sponsor, campaign_text, local, member_count, union},
    live::effects::Effects,
    pledges,
    store::db,
};

#[derive(Debug, thiserror::Error)]

pub enum ImportError {
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("the file is not valid CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the campaign file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("{0}")]
    Campaign(String),
    /// An open campaign's save that would show more about who signed than before.
    #[error(transparent)]
    PrivacyWeakened(#[from] PrivacyWeakened),
    #[error("import failed")]
    Database(#[from] DbErr),
}

/// A campaign as its file (docs/formats.md) or the editor gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignFile {
    pub slug: String,
    pub kind: String,
    pub addressee: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub goal: Option<i64>,
    #[serde(default)]
    pub opens_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closes_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub sponsors: Vec<String>,
    #[serde(default = "yes")]
    pub allow_community: bool,
    #[serde(default)]
    pub public_breakdown: Option<String>,
    #[serde(default)]
    pub smallest_group: Option<i32>,
    /// Minutes between moves of the public breakdown (the total moves live); unset: as
    /// the campaign has it, or 5 for a new one.
    #[serde(default)]
    pub breakdown_every_minutes: Option<i32>,
    #[serde(default)]
    pub demo: bool,
    #[serde(default)]
    pub default_language: Option<String>,
    /// Days the signers' details are kept once the campaign is archived.
    #[serde(default)]
    pub retention_days: Option<i32>,
    /// The locals that may sign, as `union/local` slugs; none: every sponsor's local.
    #[serde(default)]
    pub locals: Vec<String>,
    /// A pledge's threshold rule and announcements.
    #[serde(default)]
    pub pledge: Option<PledgeFile>,
    pub text: Vec<TextFile>,
}

/// A pledge's `[pledge]` table: when it binds, and what pledgers are told.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeFile {
    /// Percent of each local's members, such as `60` or `66.67`.
    #[serde(default)]
    pub share_of_members: Option<f64>,
    #[serde(default)]
    pub signers_per_local: Option<u64>,
    #[serde(default)]
    pub signers_in_all: Option<u64>,
    #[serde(default)]
    pub locals_needed: Option<u32>,
    #[serde(default)]
    pub verified_only: bool,
    /// `count_only` (the default) or `not_eligible`.
    #[serde(default)]
    pub without_member_count: Option<String>,
    #[serde(default)]
    pub sealed_names: bool,
    /// `organizer` (the default: an organizer releases each announcement) or `automatic`.
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub reached_message: String,
    #[serde(default)]
    pub unmet_message: String,
}

impl PledgeFile {
    /// The threshold rule the table states.
    pub fn rule(&self) -> Result<PledgeRule, String> {
        let share_needed_bp = match self.share_of_members {
            None => None,
            Some(percent) if percent.is_finite() && percent > 0.0 && percent <= 100.0 => {
                Some((percent * 100.0).round() as u32)
            }
            Some(percent) => {
                return Err(format!(
                    "share_of_members {percent} must be more than 0 and at most 100"
                ));
            }
        };
        let without_member_count = match self.without_member_count.as_deref() {
            None => WithoutMemberCount::CountOnly,
            Some(word) => WithoutMemberCount::parse(word).ok_or_else(|| {
                format!("without_member_count {word:?} is not count_only or not_eligible")
            })?,
        };
        let rule = PledgeRule {
            share_needed_bp,
            per_local_needed: self.signers_per_local,
            total_needed: self.signers_in_all,
            locals_needed: self.locals_needed,
            verified_only: self.verified_only,
            without_member_count,
        };
        rule.check().map_err(|problem| problem.to_string())?;
        Ok(rule)
    }

    fn auto_release(&self) -> Result<bool, String> {
        match self.release.as_deref() {
            None | Some("organizer") => Ok(false),
            Some("automatic") => Ok(true),
            Some(other) => Err(format!("release {other:?} is not organizer or automatic")),
        }
    }
}

/// Fewer signers than this in one local are not shown apart, unless a campaign says so.
pub const DEFAULT_SMALLEST_GROUP: i32 = 5;

/// How often a campaign's public breakdown moves, unless its file says otherwise: often
/// enough to watch a campaign grow, too seldom to time one person's signature.
pub const DEFAULT_BREAKDOWN_EVERY_MINUTES: i32 = 5;

fn yes() -> bool {
    true
}

/// One language's text of a campaign: the body is Markdown.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextFile {
    pub language: String,
    pub title: String,
    pub summary: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignImported {
    pub campaign_id: i64,
    pub slug: String,
    pub created: bool,
    /// Languages whose text changed and so got a new version.
    pub new_versions: Vec<String>,
}

impl CampaignImported {
    /// Pages and tallies read the campaign from the hub: every process rereads it.
    pub fn effects(&self) -> Effects {
        Effects::none()
            .reread(CampaignId(self.campaign_id))
            .judge_pledges()
    }
}

/// Imports (or updates) a campaign from its TOML file, in one transaction.
pub async fn import_campaign(
    db: &DatabaseConnection,
    toml_text: &str,
    now: DateTime<Utc>,
) -> Result<CampaignImported, ImportError> {
    save_campaign(db, &campaign_file(toml_text)?, "command line", now).await
}

/// A campaign file read, not yet checked.
pub fn campaign_file(toml_text: &str) -> Result<CampaignFile, ImportError> {
    Ok(toml::from_str(toml_text)?)
}

/// Creates or updates a campaign and its texts, in one transaction with its audit entry
/// naming `actor`. A text that changed gets a new version.
pub async fn save_campaign(
    db: &DatabaseConnection,
    file: &CampaignFile,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<CampaignImported, ImportError> {
    let fail = |message: String| ImportError::Campaign(message);
    let slug = CampaignSlug::parse(&file.slug)
        .map_err(|_| fail(format!("slug {:?} may hold only a-z, 0-9 and -", file.slug)))?;
    let kind = CampaignKind::parse(&file.kind)
        .ok_or_else(|| fail(format!("kind {:?} is not petition or pledge", file.kind)))?;
    let status = match &file.status {
        None => CampaignStatus::Draft,
        Some(s) => CampaignStatus::parse(s).ok_or_else(|| {
            fail(format!(
                "status {s:?} is not draft, open, closed or archived"
            ))
        })?,
    };
    let breakdown = match &file.public_breakdown {
        None => PublicBreakdown::ByLocal,
        Some(b) => PublicBreakdown::parse(b).ok_or_else(|| {
            fail(format!(
                "public_breakdown {b:?} is not total_only, by_union or by_local"
            ))
        })?,
    };
    let smallest_group = file.smallest_group.unwrap_or(DEFAULT_SMALLEST_GROUP);
    if smallest_group < 1 {
        return Err(fail(format!(
            "smallest_group {smallest_group} must be 1 or more"
        )));
    }
    if file.text.is_empty() {
        return Err(fail("a campaign needs at least one [[text]]".into()));
    }
    let mut languages = BTreeSet::new();
    for text in &file.text {
        let language = Language::parse(&text.language)
            .map_err(|_| fail(format!("language {:?} is not supported", text.language)))?;
        if !languages.insert(language.code()) {
            return Err(fail(format!("language {:?} appears twice", text.language)));
        }
        if text.title.trim().is_empty() {
            return Err(fail(format!("the {} text has no title", text.language)));
        }
    }
    let default_language = match &file.default_language {
        Some(code) => Language::parse(code)
            .ok()
            .filter(|l| languages.contains(l.code()))
            .ok_or_else(|| fail(format!("default_language {code:?} has no text")))?,
        None => Language::parse(&file.text[0].language).unwrap_or_default(),
    };
    if let (Some(opens), Some(closes)) = (file.opens_at, file.closes_at)
        && closes <= opens
    {
        return Err(fail("closes_at must be after opens_at".into()));
    }
    let (rule, auto_release) = match &file.pledge {
        Some(_) if kind != CampaignKind::Pledge => {
            return Err(fail("only a pledge has a [pledge] table".into()));
        }
        Some(pledge) => (
            pledge.rule().map_err(fail)?,
            pledge.auto_release().map_err(fail)?,
        ),
        None => (PledgeRule::default(), false),
    };

    let txn = db::begin_write(db).await?;
    let mut sponsor_ids = Vec::new();
    for sponsor in &file.sponsors {
        let union = union::Entity::find()
            .filter(union::Column::Slug.eq(sponsor.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                fail(format!(
                    "sponsor {sponsor:?} is not a known union: import its locals first"
                ))
            })?;
        sponsor_ids.push(union.id);
    }

    let existing = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug.as_str()))
        .one(&txn)
        .await?;
    let created = existing.is_none();
    let breakdown_every = file
        .breakdown_every_minutes
        .or(existing.as_ref().map(|c| c.breakdown_every_minutes))
        .unwrap_or(DEFAULT_BREAKDOWN_EVERY_MINUTES);
    if !(1..=1440).contains(&breakdown_every) {
        return Err(fail(format!(
            "breakdown_every_minutes {breakdown_every} is not a whole number from 1 to 1440"
        )));
    }
    let archived_at = existing.as_ref().and_then(|c| c.archived_at);
    let sealed_names = file.pledge.as_ref().is_some_and(|p| p.sealed_names);
    // The moment a pledge binds must be honest: its rule holds still once it is open.
    if let Some(found) = &existing
        && found.status != CampaignStatus::Draft
        && crate::entities::campaign::rule_of(found) != rule
    {
        return Err(fail(
            "the threshold rule of a pledge cannot change once it has opened".into(),
        ));
    }
    // Once out of draft, people signed (or may at any moment) under these settings: they
    // only get stricter, and each stricter change is audited below.
    let privacy_changes = match &existing {
        Some(found) if found.status != CampaignStatus::Draft => only_stricter(
            &privacy_of(found),
            &PrivacySettings {
                smallest_group,
                public_breakdown: breakdown,
                retention_days: file.retention_days.unwrap_or(found.retention_days),
                sealed_names,
                breakdown_every_minutes: breakdown_every,
            },
        )?,
        _ => Vec::new(),
    };
    let mut active = match existing {
        Some(found) => found.into_active_model(),
        None => campaign::ActiveModel {
            slug: Set(slug.as_str().to_owned()),
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.kind = Set(kind);
    active.addressee = Set(file.addressee.trim().to_owned());
    active.status = Set(status);
    active.goal = Set(file.goal.filter(|g| *g > 0));
    active.opens_at = Set(file.opens_at);
    active.closes_at = Set(file.closes_at);
    active.public_breakdown = Set(breakdown);
    active.smallest_group = Set(smallest_group);
    active.breakdown_every_minutes = Set(breakdown_every);
    active.allow_community = Set(file.allow_community);
    active.default_language = Set(default_language.code().to_owned());
    active.is_demo = Set(file.demo);
    if let Some(days) = file.retention_days {
        if !(0..=3650).contains(&days) {
            return Err(fail(format!("retention_days {days} is not from 0 to 3650")));
        }
        active.retention_days = Set(days);
    }
    pledges::set_rule(&mut active, &rule);
    let pledge = file.pledge.as_ref();
    active.auto_release = Set(auto_release);
    active.sealed_names = Set(sealed_names);
    active.reached_message = Set(pledge
        .map(|p| p.reached_message.trim().to_owned())
        .unwrap_or_default());
    active.unmet_message = Set(pledge
        .map(|p| p.unmet_message.trim().to_owned())
        .unwrap_or_default());
    // The retention period runs from the first archiving.
    if status == CampaignStatus::Archived && archived_at.is_none() {
        active.archived_at = Set(Some(now));
    }
    let campaign = active.save(&txn).await?.try_into_model()?;

    campaign_sponsor::Entity::delete_many()
        .filter(campaign_sponsor::Column::CampaignId.eq(campaign.id))
        .exec(&txn)
        .await?;
    for &union_id in &sponsor_ids {
        campaign_sponsor::ActiveModel {
            campaign_id: Set(campaign.id),
            union_id: Set(union_id),
        }
        .insert(&txn)
        .await?;
    }
    let mut chosen = Vec::with_capacity(file.locals.len());
    for name in &file.locals {
        let found = match name.trim().split_once('/') {
            Some((union_slug, local_slug)) => {
                let union = union::Entity::find()
                    .filter(union::Column::Slug.eq(union_slug))
                    .one(&txn)
                    .await?;
                match union {
                    Some(union) => {
                        local::Entity::find()
                            .filter(local::Column::UnionId.eq(union.id))
                            .filter(local::Column::Slug.eq(local_slug))
                            .one(&txn)
                            .await?
                    }
                    None => None,
                }
            }
            None => None,
        };
        let local = found
            .filter(|local| sponsor_ids.contains(&local.union_id))
            .ok_or_else(|| {
                fail(format!(
                    "local {name:?} is not a local (union/local) of a sponsor"
                ))
            })?;
        chosen.push(local.id);
    }
    pledges::set_locals(&txn, &campaign, &sponsor_ids, chosen, now)
        .await
        .map_err(|err| match err {
            pledges::LocalsError::Leaving => {
                fail("a local cannot leave a pledge once it has opened".into())
            }
            pledges::LocalsError::Db(err) => ImportError::Database(err),
        })?;

    let mut new_versions = Vec::new();
    for text in &file.text {
        let language = Language::parse(&text.language).unwrap_or_default();
        let (title, summary, body) = (text.title.trim(), text.summary.trim(), text.body.trim());
        let sha256 = text_sha256(title, summary, body);
        let latest = campaign_text::Entity::find()
            .filter(campaign_text::Column::CampaignId.eq(campaign.id))
            .filter(campaign_text::Column::Language.eq(language.code()))
            .order_by_desc(campaign_text::Column::Version)
            .one(&txn)
            .await?;
        if latest.as_ref().is_some_and(|t| t.sha256 == sha256) {
            continue;
        }
        campaign_text::ActiveModel {
            campaign_id: Set(campaign.id),
            language: Set(language.code().to_owned()),
            version: Set(latest.map_or(1, |t| t.version + 1)),
            title: Set(title.to_owned()),
            summary: Set(summary.to_owned()),
            body_md: Set(body.to_owned()),
            sha256: Set(sha256),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        new_versions.push(language.code().to_owned());
    }
    crate::audit::audit_entry(
        &txn,
        actor,
        if created {
            "campaign.create"
        } else {
            "campaign.save"
        },
        serde_json::json!({
            "campaign": campaign.slug,
            "status": campaign.status,
            "new_text_versions": new_versions,
        }),
        now,
    )
    .await?;
    if !privacy_changes.is_empty() {
        audit_privacy(&txn, actor, &campaign, &privacy_changes, now).await?;
    }
    txn.commit().await?;
    Ok(CampaignImported {
        campaign_id: campaign.id,
        slug: campaign.slug,
        created,
        new_versions,
    })
}

/// What a saved campaign lets the public learn about who signed.
fn privacy_of(campaign: &campaign::Model) -> PrivacySettings {
    PrivacySettings {
        smallest_group: campaign.smallest_group,
        public_breakdown: campaign.public_breakdown,
        retention_days: campaign.retention_days,
        sealed_names: campaign.sealed_names,
        breakdown_every_minutes: campaign.breakdown_every_minutes,
    }
}

/// One audit row for the stricter privacy of an open campaign, naming each key changed.
async fn audit_privacy(
    txn: &impl sea_orm::ConnectionTrait,
    actor: &str,
    campaign: &campaign::Model,
    changes: &[PrivacyChange],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let changed: Vec<_> = changes
        .iter()
        .map(|c| serde_json::json!({"key": c.key, "before": c.before, "after": c.after}))
        .collect();
    audit::Entity::insert(audit::ActiveModel {
        at: Set(now),
        actor: Set(actor.to_owned()),
        action: Set("campaign.privacy_stricter".to_owned()),
        campaign_id: Set(Some(campaign.id)),
        reason: Set(String::new()),
        details: Set(
            serde_json::json!({"campaign": campaign.slug, "changes": changed}).to_string(),
        ),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

mod locals;

pub use locals::*;
