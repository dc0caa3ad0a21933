//! Server functions a campaign's organizers call: the campaign's dashboard, the paper
//! review list and moderation.

use super::*;

/// A campaign's dashboard, for whoever may see any of its signers.
#[server(endpoint = "campaign_dashboard")]
pub async fn campaign_dashboard(
    slug: String,
) -> Result<rollcall::views::CampaignDashboard, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    rollcall::organizing::dashboards::campaign_dashboard(&state.db, &caller, &slug)
        .await
        .map_err(dashboard_error)
}

/// An organizer keeps (`keep`) or removes (`remove`) a paper line whose address had
/// already signed.
#[server(endpoint = "resolve_collision")]
pub async fn resolve_collision(
    slug: String,
    collision_id: i64,
    decision: String,
) -> Result<(), AccountFormError> {
    use rollcall::organizing::collisions::{CollisionError, Resolution};
    let state = state()?;
    let caller = caller(&state).await?;
    let resolution = Resolution::parse(&decision)
        .ok_or(AccountFormError::Moderation(ModerationProblem::NoDecision))?;
    match rollcall::organizing::collisions::resolve(
        &state.db,
        &caller,
        &slug,
        collision_id,
        resolution,
        state.clock.now(),
    )
    .await
    {
        // A removal reaches the counts at the campaign's next cadence tick.
        Ok(()) => {
            leptos_axum::redirect(&format!("/account/c/{slug}?resolved=1"));
            Ok(())
        }
        Err(CollisionError::NotFound) => Err(AccountFormError::NotFound),
        Err(CollisionError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(CollisionError::Db(err)) => Err(unexpected(err)),
    }
}

/// An organizer invalidates or restores one signature, found by its email.
#[server(endpoint = "moderate")]
pub async fn moderate(
    slug: String,
    email: String,
    action: String,
    reason: String,
) -> Result<(), AccountFormError> {
    use rollcall::organizing::moderation::{Action, ModerationError};
    let state = state()?;
    let caller = caller(&state).await?;
    let action = match action.as_str() {
        "invalidate" => Action::Invalidate,
        "restore" => Action::Restore,
        _ => return Err(AccountFormError::Forbidden),
    };
    match rollcall::organizing::moderation::moderate(
        &state.db,
        &caller,
        &slug,
        &email,
        action,
        &reason,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(done) => {
            state.bells().apply(done.effects());
            leptos_axum::redirect(&format!("/account/c/{slug}?moderated=1"));
            Ok(())
        }
        Err(ModerationError::UnknownCampaign | ModerationError::NotFound) => {
            Err(AccountFormError::NotFound)
        }
        Err(ModerationError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(ModerationError::NoReason) => Err(moderation(ModerationProblem::NoReason)),
        Err(ModerationError::NotCounted) => Err(moderation(ModerationProblem::NotCounted)),
        Err(ModerationError::NotInvalidated) => Err(moderation(ModerationProblem::NotInvalidated)),
        Err(ModerationError::NeverConfirmed) => Err(moderation(ModerationProblem::NeverConfirmed)),
        Err(ModerationError::ChangedMeanwhile) => {
            Err(moderation(ModerationProblem::ChangedMeanwhile))
        }
        Err(ModerationError::Db(err)) => Err(unexpected(err)),
    }
}

#[cfg(feature = "ssr")]
fn moderation(problem: ModerationProblem) -> AccountFormError {
    AccountFormError::Moderation(problem)
}
