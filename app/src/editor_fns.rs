//! Server functions behind the campaign editor: load it, and save what the form sends
//! through `rollcall::organizing::editing`, which checks the caller's role and the campaign's rules.

use leptos::prelude::*;

use crate::account_fns::AccountFormError;
#[cfg(feature = "ssr")]
use crate::account_fns::{caller, state, unexpected};

#[cfg(feature = "ssr")]
fn edit_error(err: rollcall::organizing::editing::EditError) -> AccountFormError {
    use rollcall::organizing::editing::EditError;
    match err {
        EditError::Forbidden => AccountFormError::Forbidden,
        EditError::StatusBackwards => {
            AccountFormError::Campaign(crate::account_fns::CampaignProblem::StatusBackwards)
        }
        EditError::Invalid(message) => AccountFormError::Import(message),
        EditError::Db(err) => unexpected(err),
    }
}

/// The editor's fields for `slug`, or empty ones for a new campaign (`slug` empty).
#[server(endpoint = "campaign_editor")]
pub async fn campaign_editor(
    slug: String,
) -> Result<rollcall::views::CampaignEditor, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    let slug = Some(slug).filter(|s| !s.is_empty());
    rollcall::organizing::editing::load(&state.db, &caller, slug.as_deref())
        .await
        .map_err(edit_error)
}

/// The editor's form. Its inputs are named `form[FIELD]`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CampaignForm {
    pub slug: String,
    pub kind: String,
    pub addressee: String,
    pub status: String,
    pub goal: String,
    /// `YYYY-MM-DDTHH:MM`, UTC.
    pub opens_at: String,
    pub closes_at: String,
    /// Union slugs, separated by commas.
    pub sponsors: String,
    /// Present when the box is ticked.
    pub allow_community: Option<String>,
    pub public_breakdown: String,
    pub smallest_group: String,
    /// Left out by an older form: the campaign keeps what it has.
    #[serde(default)]
    pub breakdown_every_minutes: String,
    pub default_language: String,
    pub retention_days: String,
    pub en_title: String,
    pub en_summary: String,
    pub en_body: String,
    pub es_title: String,
    pub es_summary: String,
    pub es_body: String,
    /// `union/local` slugs, one a line; empty: every sponsor's local.
    pub locals: String,
    pub share_of_members: String,
    pub signers_per_local: String,
    pub signers_in_all: String,
    pub locals_needed: String,
    pub verified_only: Option<String>,
    pub without_member_count: String,
    pub sealed_names: Option<String>,
    pub auto_release: Option<String>,
    pub reached_message: String,
    pub unmet_message: String,
}

/// Saves the editor's form. Texts are given per language; a language whose title is
/// left empty is not saved.
#[server(endpoint = "save_campaign")]
pub async fn save_campaign(form: CampaignForm) -> Result<(), AccountFormError> {
    use rollcall::organizing::import::{CampaignFile, TextFile};

    let state = state()?;
    let caller = caller(&state).await?;
    let CampaignForm {
        slug,
        kind,
        addressee,
        status,
        goal,
        opens_at,
        closes_at,
        sponsors,
        allow_community,
        public_breakdown,
        smallest_group,
        breakdown_every_minutes,
        default_language,
        retention_days,
        en_title,
        en_summary,
        en_body,
        es_title,
        es_summary,
        es_body,
        locals,
        share_of_members,
        signers_per_local,
        signers_in_all,
        locals_needed,
        verified_only,
        without_member_count,
        sealed_names,
        auto_release,
        reached_message,
        unmet_message,
    } = form;
    let bad = |what: &str| AccountFormError::Import(what.to_owned());
    let minute = |text: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, AccountFormError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
            .map(|t| Some(t.and_utc()))
            .map_err(|_| bad("times are YYYY-MM-DDTHH:MM, in UTC"))
    };
    let goal = match goal.trim() {
        "" => None,
        text => Some(
            text.replace([',', ' '], "")
                .parse::<i64>()
                .map_err(|_| bad("the goal is a whole number"))?,
        ),
    };
    let whole = |text: &str, what: &str| -> Result<Option<u64>, AccountFormError> {
        match text.trim().replace([',', ' '], "").as_str() {
            "" => Ok(None),
            digits => digits
                .parse::<u64>()
                .map(Some)
                .map_err(|_| bad(&format!("{what} is a whole number"))),
        }
    };
    let pledge = if rollcall::domain::CampaignKind::parse(&kind)
        == Some(rollcall::domain::CampaignKind::Pledge)
    {
        Some(rollcall::organizing::import::PledgeFile {
            share_of_members: match share_of_members.trim().trim_end_matches('%') {
                "" => None,
                text => Some(
                    text.parse::<f64>()
                        .map_err(|_| bad("the share of members is a percentage, such as 60"))?,
                ),
            },
            signers_per_local: whole(&signers_per_local, "signers per local")?,
            signers_in_all: whole(&signers_in_all, "signers in all")?,
            locals_needed: whole(&locals_needed, "the number of locals")?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            verified_only: verified_only.is_some(),
            without_member_count: Some(without_member_count).filter(|w| !w.is_empty()),
            sealed_names: sealed_names.is_some(),
            release: Some(
                if auto_release.is_some() {
                    "automatic"
                } else {
                    "organizer"
                }
                .to_owned(),
            ),
            reached_message,
            unmet_message,
        })
    } else {
        None
    };
    let smallest_group = smallest_group
        .trim()
        .parse::<i32>()
        .map_err(|_| bad("the smallest group shown is a whole number"))?;
    let breakdown_every_minutes = match breakdown_every_minutes.trim() {
        "" => None,
        minutes => Some(
            minutes
                .parse::<i32>()
                .map_err(|_| bad("the minutes between breakdown updates are a whole number"))?,
        ),
    };
    let mut texts = Vec::new();
    for (language, title, summary, body) in [
        ("en", en_title, en_summary, en_body),
        ("es", es_title, es_summary, es_body),
    ] {
        if !title.trim().is_empty() {
            texts.push(TextFile {
                language: language.to_owned(),
                title,
                summary,
                body,
            });
        }
    }
    let file = CampaignFile {
        slug: slug.trim().to_owned(),
        kind,
        addressee,
        status: Some(status),
        goal,
        opens_at: minute(&opens_at)?,
        closes_at: minute(&closes_at)?,
        sponsors: sponsors
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        allow_community: allow_community.is_some(),
        public_breakdown: Some(public_breakdown),
        smallest_group: Some(smallest_group),
        breakdown_every_minutes,
        demo: false,
        default_language: Some(default_language),
        retention_days: match retention_days.trim() {
            "" => None,
            days => Some(
                days.parse::<i32>()
                    .map_err(|_| bad("the retention period is a whole number of days"))?,
            ),
        },
        locals: locals
            .split(['\n', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        pledge,
        text: texts,
    };
    let saved = rollcall::organizing::editing::save(&state.db, &caller, file, chrono::Utc::now())
        .await
        .map_err(edit_error)?;
    state.bells().apply(saved.effects());
    leptos_axum::redirect(&format!("/account/c/{}/edit?saved=1", saved.slug));
    Ok(())
}
