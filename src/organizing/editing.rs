//! The campaign editor's use case: an admin creates campaigns, and an admin or the
//! campaign's organizer edits one. The same rules as a campaign file import apply (the
//! editor fills in a [`CampaignFile`]); besides, a campaign's status only moves forward
//! (draft → open → closed → archived), and every save is audited with who made it. A changed text becomes
//! a new version, so each signature keeps the version it signed.

use crate::{
    accounts::access::{self, Caller},
    domain::CampaignStatus,
    organizing::import::{self, CampaignFile, CampaignImported, ImportError},
    store::campaigns,
    views::{CampaignEditor, EditorText, PledgeForm},
};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("only admins create campaigns, and only its organizers and admins edit one")]
    Forbidden,
    #[error("a campaign's status only moves forward: draft, open, closed, archived")]
    StatusBackwards,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Saves a campaign from the editor.
pub async fn save(
    db: &DatabaseConnection,
    caller: &Caller,
    mut file: CampaignFile,
    now: DateTime<Utc>,
) -> Result<CampaignImported, EditError> {
    let existing = campaigns::by_slug(db, file.slug.trim()).await?;
    let allowed = match &existing {
        None => caller.is_admin(),
        Some(found) => access::edits_campaign(caller, found.id),
    };
    if !allowed {
        return Err(EditError::Forbidden);
    }
    if let Some(found) = &existing {
        let rank = |status: Option<CampaignStatus>| match status {
            Some(CampaignStatus::Draft) | None => 0,
            Some(CampaignStatus::Open) => 1,
            Some(CampaignStatus::Closed) => 2,
            Some(CampaignStatus::Archived) => 3,
        };
        let now_status = rank(Some(found.status));
        let wanted = rank(file.status.as_deref().and_then(CampaignStatus::parse));
        if wanted < now_status {
            return Err(EditError::StatusBackwards);
        }
        // Demo content stays marked as such whoever edits it.
        file.demo = found.is_demo;
    }
    import::save_campaign(db, &file, &caller.label(), now)
        .await
        .map_err(|err| match err {
            ImportError::Database(err) => EditError::Db(err),
            other => EditError::Invalid(other.to_string()),
        })
}

/// What the editor shows for a campaign (or, with no slug, a new one).
pub async fn load(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: Option<&str>,
) -> Result<CampaignEditor, EditError> {
    use crate::entities::{campaign_text, union};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let unions = union::Entity::find()
        .order_by_asc(union::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.slug, u.name))
        .collect();
    let Some(slug) = slug else {
        if !caller.is_admin() {
            return Err(EditError::Forbidden);
        }
        return Ok(CampaignEditor {
            is_new: true,
            allow_community: true,
            smallest_group: import::DEFAULT_SMALLEST_GROUP,
            breakdown_every_minutes: import::DEFAULT_BREAKDOWN_EVERY_MINUTES,
            default_language: "en".into(),
            retention_days: 90,
            unions,
            ..CampaignEditor::default()
        });
    };
    let found = campaigns::by_slug(db, slug)
        .await?
        .ok_or_else(|| EditError::Invalid(format!("no campaign {slug:?}")))?;
    if !access::edits_campaign(caller, found.id) {
        return Err(EditError::Forbidden);
    }
    let sponsors = campaigns::sponsors(db, found.id)
        .await?
        .into_iter()
        .map(|u| u.slug)
        .collect();
    let mut texts: Vec<EditorText> = Vec::new();
    for text in campaign_text::Entity::find()
        .filter(campaign_text::Column::CampaignId.eq(found.id))
        .order_by_desc(campaign_text::Column::Version)
        .all(db)
        .await?
    {
        if texts.iter().any(|t| t.language == text.language) {
            continue;
        }
        texts.push(EditorText {
            preview_html: crate::domain::render_markdown(&text.body_md),
            language: text.language,
            version: text.version,
            title: text.title,
            summary: text.summary,
            body: text.body_md,
        });
    }
    let minute = |at: DateTime<Utc>| at.format("%Y-%m-%dT%H:%M").to_string();
    let locals = crate::pledges::listed_slugs(db, found.id).await?;
    let rule = crate::entities::campaign::rule_of(&found);
    let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let pledge = PledgeForm {
        share_of_members: rule
            .share_label()
            .map(|label| label.trim_end_matches('%').to_owned())
            .unwrap_or_default(),
        signers_per_local: number(rule.per_local_needed),
        signers_in_all: number(rule.total_needed),
        locals_needed: number(rule.locals_needed.map(u64::from)),
        verified_only: rule.verified_only,
        without_member_count: rule.without_member_count,
        sealed_names: found.sealed_names,
        auto_release: found.auto_release,
        reached_message: found.reached_message.clone(),
        unmet_message: found.unmet_message.clone(),
    };
    Ok(CampaignEditor {
        is_new: false,
        slug: found.slug,
        kind: found.kind,
        addressee: found.addressee,
        status: found.status,
        goal: found.goal,
        opens_at: found.opens_at.map(minute),
        closes_at: found.closes_at.map(minute),
        sponsors,
        allow_community: found.allow_community,
        public_breakdown: found.public_breakdown,
        smallest_group: found.smallest_group,
        breakdown_every_minutes: found.breakdown_every_minutes,
        default_language: found.default_language,
        retention_days: found.retention_days,
        purged_at: found.purged_at.map(|at| at.to_rfc3339()),
        texts,
        unions,
        locals,
        pledge,
    })
}
