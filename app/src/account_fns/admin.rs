//! Server functions only admins call: invitations, unions and locals, revoking a grant
//! and forcing a password reset.

use super::*;

/// An admin invites someone by email to a role, with the invitation written in `lang`
/// (the admin's own page language when the form leaves it out).
#[server(endpoint = "invite")]
pub async fn invite(
    email: String,
    role: String,
    #[server(default)] lang: String,
) -> Result<(), AccountFormError> {
    use rollcall::accounts::Invitation;
    use rollcall::domain::{Grant, Language};

    let state = state()?;
    let caller = caller(&state).await?;
    let grant = Grant::parse_choice(&role).ok_or(AccountFormError::Forbidden)?;
    let language = Language::parse(&lang).unwrap_or_else(|_| crate::state::request_language());
    match rollcall::accounts::invite(
        &state.db,
        &caller,
        Invitation {
            email: &email,
            grant,
            language,
        },
        &state.public_url,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(effects) => {
            state.bells().apply(effects);
            leptos_axum::redirect("/account?invited=1");
            Ok(())
        }
        Err(rollcall::accounts::InviteError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(rollcall::accounts::InviteError::Email(_)) => Err(AccountFormError::InvalidEmail),
        Err(rollcall::accounts::InviteError::Db(err)) => Err(unexpected(err)),
    }
}

#[cfg(feature = "ssr")]
pub(super) fn locals_error(
    err: rollcall::organizing::membership::ImportLocalsError,
) -> AccountFormError {
    use rollcall::organizing::membership::ImportLocalsError;
    match err {
        ImportLocalsError::Forbidden => AccountFormError::Forbidden,
        ImportLocalsError::Invalid(why) => AccountFormError::Import(why),
        ImportLocalsError::Db(err) => unexpected(err),
    }
}

/// The unions and how many locals and members each has (admins).
#[server(endpoint = "unions_overview")]
pub async fn unions_overview() -> Result<Vec<rollcall::views::UnionLine>, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    rollcall::organizing::membership::unions_overview(&state.db, &caller)
        .await
        .map_err(locals_error)
}

/// An admin pastes the locals CSV (docs/formats.md).
#[server(endpoint = "import_locals")]
pub async fn import_locals(sheet: String) -> Result<(), AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    let report = rollcall::organizing::membership::import_locals(
        &state.db,
        &caller,
        &sheet,
        chrono::Utc::now(),
    )
    .await
    .map_err(locals_error)?;
    leptos_axum::redirect(&format!(
        "/admin/locals?unions={}&created={}&updated={}",
        report.unions_created, report.locals_created, report.locals_updated
    ));
    Ok(())
}

/// An admin takes a role from someone; their sessions end at once. Audited with the
/// admin's name and the reason.
#[server(endpoint = "revoke_grant")]
pub async fn revoke_grant(
    email: String,
    role: String,
    reason: String,
) -> Result<(), AccountFormError> {
    use rollcall::accounts::revoking::Why;
    let state = state()?;
    let caller = caller(&state).await?;
    if !caller.is_admin() {
        return Err(AccountFormError::Forbidden);
    }
    let grant = rollcall::domain::Grant::parse_choice(&role).ok_or(AccountFormError::NotFound)?;
    let by = caller.label();
    match rollcall::accounts::revoking::revoke_grant(
        &state.db,
        &email,
        grant,
        Why {
            by: &by,
            reason: &reason,
        },
        chrono::Utc::now(),
    )
    .await
    {
        Ok(()) => {
            leptos_axum::redirect("/account?revoked=1");
            Ok(())
        }
        Err(err) => Err(revoke_error(err)),
    }
}

#[cfg(feature = "ssr")]
pub(super) fn revoke_error(err: rollcall::accounts::revoking::RevokeError) -> AccountFormError {
    use rollcall::accounts::revoking::RevokeError;
    match err {
        RevokeError::UnknownAccount(_) | RevokeError::NoSuchGrant | RevokeError::NoRole => {
            AccountFormError::NotFound
        }
        RevokeError::Unexplained => AccountFormError::Moderation(ModerationProblem::NoReason),
        RevokeError::Db(err) => unexpected(err),
    }
}

/// An admin forces someone's password reset: it stops working at once, their sessions
/// end, and they are mailed a link to set a new one. Audited with the reason.
#[server(endpoint = "force_password_reset")]
pub async fn force_password_reset(email: String, reason: String) -> Result<(), AccountFormError> {
    use rollcall::accounts::revoking::Why;
    let state = state()?;
    let caller = caller(&state).await?;
    if !caller.is_admin() {
        return Err(AccountFormError::Forbidden);
    }
    let by = caller.label();
    let effects = rollcall::accounts::revoking::force_password_reset(
        &state.db,
        &email,
        Why {
            by: &by,
            reason: &reason,
        },
        &state.public_url,
        chrono::Utc::now(),
    )
    .await
    .map_err(revoke_error)?;
    state.bells().apply(effects);
    leptos_axum::redirect("/account?reset=1");
    Ok(())
}
