//! Server functions: parse the input, call a `rollcall` service, map its error to one a
//! page can show. No business rules live here.

use leptos::prelude::*;
use rollcall::domain::{FieldErrors, Language};
use rollcall::views::{CampaignDetail, CampaignSummary, NamesPage, SignatureView};
use serde::{Deserialize, Serialize};

use crate::failure::{Failure, form_error};

#[cfg(feature = "ssr")]
use crate::state::{AppState, client_ip, request_language};

/// Why a signature was not taken, in terms the form can show. Carries field names and
/// problems, never what the person typed (a no-JavaScript error lands in the URL).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum SignFormError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error("this campaign is not taking signatures")]
    NotOpen,
    #[error("there is no such campaign")]
    UnknownCampaign,
    #[error("this form was opened more than a day ago; please reload the page and sign again")]
    Stale,
    #[error(transparent)]
    Failed(Failure),
}

form_error!(SignFormError);

#[cfg(feature = "ssr")]
fn state() -> Result<AppState, leptos::server_fn::error::ServerFnErrorErr> {
    use leptos::server_fn::error::ServerFnErrorErr;
    use_context::<AppState>()
        .ok_or_else(|| ServerFnErrorErr::ServerError("application state missing".into()))
}

/// Signs a campaign from the sign form. On success the browser lands on the
/// "check your email" page, with or without JavaScript.
#[server(endpoint = "sign")]
pub async fn sign(
    slug: String,
    given_name: String,
    family_name: String,
    email: String,
    local_id: String,
    #[server(default)] employer: String,
    #[server(default)] postal_code: String,
    #[server(default)] phone: String,
    #[server(default)] show_name: Option<String>,
    #[server(default)] lang: String,
    #[server(default)] stamp: String,
    #[server(default)] website: String,
) -> Result<(), SignFormError> {
    use rollcall::abuse::stamp::Screening;
    use rollcall::domain::SignatureInput;
    use rollcall::signing::{SignContext, SignError};

    let state = state().map_err(Failure::Transport)?;
    let now = chrono::Utc::now();
    let lang = if lang.is_empty() {
        request_language().code().to_owned()
    } else {
        lang
    };
    let input = SignatureInput {
        given_name,
        family_name,
        email,
        local: local_id,
        employer,
        postal_code,
        phone,
        show_name: show_name.is_some(),
        lang,
    };
    // Field problems are shown whoever sent them: nothing is written either way.
    if let Err(errors) = rollcall::domain::SignatureRequest::parse(&input) {
        return Err(SignFormError::Invalid(errors));
    }
    match state
        .form_key
        .screen(&stamp, &website, now, state.form_min_age)
    {
        Screening::Person => {}
        Screening::Stale => return Err(SignFormError::Stale),
        Screening::Script => {
            tracing::info!("a scripted submission was dropped");
            leptos_axum::redirect(&format!("/c/{slug}/thanks"));
            return Ok(());
        }
    }
    let blocks = match state.blocks.current().await {
        Ok(blocks) => blocks,
        Err(err) => {
            return Err(SignFormError::unexpected(err));
        }
    };
    let ctx = SignContext {
        now,
        public_url: &state.public_url,
        ip: client_ip(),
        confirm_ttl: state.confirm_ttl,
        mail_limits: state.mail_limits,
        blocks: &blocks,
    };
    match rollcall::signing::sign(&state.db, &slug, &input, &ctx).await {
        Ok(effects) => {
            state.bells().apply(effects);
            leptos_axum::redirect(&format!("/c/{slug}/thanks"));
            Ok(())
        }
        Err(SignError::Invalid(errors)) => Err(SignFormError::Invalid(errors)),
        Err(SignError::NotOpen) => Err(SignFormError::NotOpen),
        Err(SignError::UnknownCampaign) => Err(SignFormError::UnknownCampaign),
        Err(err @ SignError::Unexpected(_)) => Err(SignFormError::unexpected(err)),
    }
}

/// Why a confirmation did not go through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ConfirmFormError {
    /// Unknown, used or expired: alike, so the link's reader learns nothing.
    #[error("this confirmation link no longer works")]
    Unknown,
    #[error("this campaign has closed")]
    Closed { campaign_slug: String },
    #[error(transparent)]
    Failed(Failure),
}

form_error!(ConfirmFormError);

#[cfg(feature = "ssr")]
impl From<rollcall::signing::confirming::ConfirmError> for ConfirmFormError {
    fn from(err: rollcall::signing::confirming::ConfirmError) -> Self {
        use rollcall::signing::confirming::ConfirmError;
        match err {
            ConfirmError::Unknown => Self::Unknown,
            ConfirmError::Closed { campaign_slug } => Self::Closed { campaign_slug },
            err @ ConfirmError::Unexpected(_) => Self::unexpected(err),
        }
    }
}

/// What the confirm page shows for a token (GET: changes nothing).
#[server(endpoint = "confirmation")]
pub async fn confirmation(token: String) -> Result<SignatureView, ConfirmFormError> {
    let state = state().map_err(Failure::Transport)?;
    Ok(
        rollcall::signing::confirming::confirmation_view(&state.db, &token, chrono::Utc::now())
            .await?,
    )
}

/// The confirm button: confirms and counts the signature, then shows the campaign's
/// "confirmed" page.
#[server(endpoint = "confirm")]
pub async fn confirm(token: String) -> Result<(), ConfirmFormError> {
    let state = state().map_err(Failure::Transport)?;
    let confirmed = rollcall::signing::confirming::confirm(
        &state.db,
        &token,
        &state.public_url,
        chrono::Utc::now(),
    )
    .await?;
    state.bells().apply(confirmed.effects());
    leptos_axum::redirect(&format!("/c/{}/confirmed", confirmed.campaign_slug));
    Ok(())
}

/// Why a withdrawal did not go through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum WithdrawFormError {
    #[error("this withdrawal link is not valid")]
    Unknown,
    #[error(transparent)]
    Failed(Failure),
}

form_error!(WithdrawFormError);

#[cfg(feature = "ssr")]
impl From<rollcall::signing::withdrawing::WithdrawError> for WithdrawFormError {
    fn from(err: rollcall::signing::withdrawing::WithdrawError) -> Self {
        use rollcall::signing::withdrawing::WithdrawError;
        match err {
            WithdrawError::Unknown => Self::Unknown,
            err @ WithdrawError::Unexpected(_) => Self::unexpected(err),
        }
    }
}

/// What the withdraw page shows for a token (GET: changes nothing).
#[server(endpoint = "withdrawal")]
pub async fn withdrawal(token: String) -> Result<SignatureView, WithdrawFormError> {
    let state = state().map_err(Failure::Transport)?;
    Ok(rollcall::signing::withdrawing::withdrawal_view(&state.db, &token).await?)
}

/// The withdraw button: the signature stops counting.
#[server(endpoint = "withdraw")]
pub async fn withdraw(token: String) -> Result<(), WithdrawFormError> {
    let state = state().map_err(Failure::Transport)?;
    let withdrawn =
        rollcall::signing::withdrawing::withdraw(&state.db, &token, chrono::Utc::now()).await?;
    state.bells().apply(withdrawn.effects());
    leptos_axum::redirect(&format!("/c/{}/withdrawn", withdrawn.campaign_slug));
    Ok(())
}

#[server(endpoint = "campaigns")]
pub async fn open_campaigns(language: Language) -> Result<Vec<CampaignSummary>, ServerFnError> {
    let state = state()?;
    rollcall::live::public::open_campaigns(&state.db, &state.hub, language)
        .await
        .map_err(|err| {
            tracing::error!(error = ?err, "listing campaigns failed");
            ServerFnError::new("campaigns could not be loaded")
        })
}

#[server(endpoint = "campaign")]
pub async fn campaign(
    slug: String,
    language: Language,
) -> Result<Option<CampaignDetail>, ServerFnError> {
    let state = state()?;
    let now = chrono::Utc::now();
    let detail = rollcall::live::public::campaign_detail(
        &state.db,
        &state.hub,
        &slug,
        language,
        now,
        &state.public_url,
    )
    .await
    .map_err(|err| {
        tracing::error!(error = ?err, "loading a campaign failed");
        ServerFnError::new("the campaign could not be loaded")
    })?;
    // The page's sign form carries the time it was rendered, signed.
    Ok(detail.map(|detail| CampaignDetail {
        form_stamp: Some(state.form_key.issue(now)),
        ..detail
    }))
}

/// One page of the names signers chose to show; None for an unknown campaign or a
/// `before` that is not one of ours.
#[cfg(feature = "ssr")]
fn names_failed(err: impl std::fmt::Debug) -> ServerFnError {
    tracing::error!(error = ?err, "loading names failed");
    ServerFnError::new("the names could not be loaded")
}

#[server(endpoint = "names")]
pub async fn names(
    slug: String,
    before: Option<String>,
) -> Result<Option<NamesPage>, ServerFnError> {
    let state = state()?;
    let before = match before.filter(|b| !b.is_empty()) {
        None => None,
        Some(text) => match rollcall::organizing::names::Cursor::parse(&text) {
            Some(cursor) => Some(cursor),
            None => return Ok(None),
        },
    };
    let Some(campaign) = state
        .hub
        .public_campaign(&slug)
        .await
        .map_err(names_failed)?
    else {
        return Ok(None);
    };
    rollcall::organizing::names::page(&state.db, &state.hub, &campaign, before)
        .await
        .map(Some)
        .map_err(names_failed)
}
