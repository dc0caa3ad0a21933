//! Server functions a person calls for their own account: signing in and out, the
//! second factor, invitations, the account page, their password, recovery codes and keys.

use super::*;

#[cfg(feature = "ssr")]
pub(super) fn after_password(state: &AppState, signed_in: rollcall::accounts::SignedIn) {
    set_cookie(&session_cookie(
        signed_in.token.as_str(),
        state.secure_cookies,
    ));
    leptos_axum::redirect(match signed_in.next {
        rollcall::accounts::SecondStep::Code => "/sign-in/code",
        rollcall::accounts::SecondStep::Enrol => "/account/two-factor",
    });
}

#[cfg(feature = "ssr")]
pub(super) fn code_error(err: rollcall::accounts::CodeError) -> AccountFormError {
    use rollcall::accounts::CodeError;
    match err {
        CodeError::NoSession => AccountFormError::NotSignedIn,
        CodeError::Wrong | CodeError::WrongAndLocked => AccountFormError::WrongCode,
        CodeError::NotEnrolled | CodeError::AlreadyEnrolled => AccountFormError::Forbidden,
        CodeError::Db(err) => unexpected(err),
    }
}

/// The password step: opens a session that still needs its code.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AccountFormError> {
    use rollcall::accounts::SignInError;
    let state = state()?;
    match rollcall::accounts::sign_in(&state.db, &email, &password, chrono::Utc::now()).await {
        Ok(signed_in) => {
            after_password(&state, signed_in);
            Ok(())
        }
        Err(SignInError::Wrong) => Err(AccountFormError::WrongPassword),
        Err(SignInError::Db(err)) => Err(unexpected(err)),
    }
}

/// The code step: the session is replaced by one that has given its second factor. A
/// recovery code is taken in place of the app's code.
#[server(endpoint = "check_code")]
pub async fn check_code(code: String) -> Result<(), AccountFormError> {
    use rollcall::domain::{RecoveryCode, TotpCode};
    let state = state()?;
    let token = request_session_token().ok_or(AccountFormError::NotSignedIn)?;
    let now = chrono::Utc::now();
    let checked = match (TotpCode::parse(&code), RecoveryCode::parse(&code)) {
        (Ok(code), _) => rollcall::accounts::verify_code(&state.db, &token, &code, now).await,
        (_, Ok(code)) => {
            rollcall::accounts::recovery::use_code(&state.db, &token, &code, now).await
        }
        _ => return Err(AccountFormError::MalformedCode),
    };
    // A wrong code may have locked the account and written its owner a mail.
    if let Err(err) = &checked {
        state.bells().apply(err.effects());
    }
    let token = checked.map_err(code_error)?;
    set_cookie(&session_cookie(token.as_str(), state.secure_cookies));
    leptos_axum::redirect("/account");
    Ok(())
}

/// What the set-up page shows: the secret to type in, and its QR code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentView {
    pub secret: String,
    pub qr_svg: String,
}

#[server(endpoint = "enrolment")]
pub async fn enrolment() -> Result<EnrolmentView, AccountFormError> {
    let state = state()?;
    let token = request_session_token().ok_or(AccountFormError::NotSignedIn)?;
    let enrolment = rollcall::accounts::begin_enrolment(&state.db, &token, chrono::Utc::now())
        .await
        .map_err(code_error)?;
    Ok(EnrolmentView {
        secret: enrolment.secret,
        qr_svg: enrolment.qr_svg,
    })
}

/// The first code from a newly set-up app.
#[server(endpoint = "enrol")]
pub async fn enrol(code: String) -> Result<(), AccountFormError> {
    let state = state()?;
    let token = request_session_token().ok_or(AccountFormError::NotSignedIn)?;
    let code =
        rollcall::domain::TotpCode::parse(&code).map_err(|_| AccountFormError::MalformedCode)?;
    let token = rollcall::accounts::finish_enrolment(&state.db, &token, &code, chrono::Utc::now())
        .await
        .map_err(code_error)?;
    set_cookie(&session_cookie(token.as_str(), state.secure_cookies));
    leptos_axum::redirect("/account");
    Ok(())
}

#[cfg(feature = "ssr")]
pub(super) fn accept_error(err: rollcall::accounts::AcceptError) -> AccountFormError {
    use rollcall::accounts::AcceptError;
    match err {
        AcceptError::Unknown => AccountFormError::InvitationUnknown,
        AcceptError::Expired => AccountFormError::InvitationExpired,
        AcceptError::Password(_) => AccountFormError::WeakPassword,
        AcceptError::Db(err) => unexpected(err),
    }
}

/// Who an invitation is for (GET: changes nothing).
#[server(endpoint = "invitation")]
pub async fn invitation(token: String) -> Result<String, AccountFormError> {
    let state = state()?;
    rollcall::accounts::invitation_for(&state.db, &token, chrono::Utc::now())
        .await
        .map_err(accept_error)
}

#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, password: String) -> Result<(), AccountFormError> {
    let state = state()?;
    match rollcall::accounts::accept_invitation(&state.db, &token, &password, chrono::Utc::now())
        .await
        .map_err(accept_error)?
    {
        rollcall::accounts::Accepted::NewAccount(signed_in) => after_password(&state, signed_in),
        rollcall::accounts::Accepted::RoleAdded => leptos_axum::redirect("/sign-in?role_added=1"),
    }
    Ok(())
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AccountFormError> {
    let state = state()?;
    if let Some(token) = request_session_token() {
        rollcall::accounts::sign_out(&state.db, &token)
            .await
            .map_err(unexpected)?;
    }
    set_cookie(&clear_session_cookie(state.secure_cookies));
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// Ends every session of the signed-in user, this one included.
#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AccountFormError> {
    let state = state()?;
    let user = signed_in_user(&state).await?;
    rollcall::accounts::sign_out_everywhere(&state.db, user.user_id)
        .await
        .map_err(unexpected)?;
    set_cookie(&clear_session_cookie(state.secure_cookies));
    leptos_axum::redirect("/sign-in");
    Ok(())
}

#[server(endpoint = "account")]
pub async fn account() -> Result<AccountView, AccountFormError> {
    use rollcall::accounts::access::{Caller, SignerScope};
    use rollcall::domain::Grant;
    use rollcall::i18n::td_string;

    let state = state()?;
    let user = signed_in_user(&state).await?;
    let needs_second_factor = !user.second_factor;
    // The password alone shows the person's own name and the way on, nothing else.
    if needs_second_factor {
        return Ok(AccountView {
            email: user.email,
            needs_second_factor,
            totp_enabled: user.totp_enabled,
            roles: Vec::new(),
            campaigns: Vec::new(),
            locals: Vec::new(),
            invite_choices: Vec::new(),
            key_choices: Vec::new(),
            failed_mail: Vec::new(),
            failed_mail_count: 0,
        });
    }
    let caller = Caller::User(user.clone());
    let language = crate::state::request_language();
    let locale = language.locale();
    let mut campaigns = Vec::new();
    for (found, scope, directory) in
        rollcall::accounts::access::visible_campaigns(&state.db, &caller)
            .await
            .map_err(unexpected)?
    {
        // The raw counts, not the public tally: an officer's own small local is not folded.
        let counts = rollcall::store::tally::counts(&state.db, found.id)
            .await
            .map_err(unexpected)?;
        let (scope, confirmed) = match &scope {
            SignerScope::Everyone => (
                td_string!(locale, dashboard.all_signers).to_owned(),
                counts.total(),
            ),
            SignerScope::Locals(locals) => {
                let names: Vec<String> = locals
                    .iter()
                    .filter_map(|id| directory.locals.get(id).map(|l| l.label()))
                    .collect();
                let confirmed = locals.iter().filter_map(|id| counts.by_local.get(id)).sum();
                (names.join(", "), confirmed)
            }
        };
        campaigns.push(AccountCampaign {
            slug: found.slug,
            status: found.status,
            scope,
            confirmed,
        });
    }
    let role_text = |grant: &Grant| match grant {
        Grant::Admin => td_string!(locale, dashboard.role_admin).to_owned(),
        Grant::CampaignOrganizer { campaign_id } => {
            td_string!(locale, dashboard.role_campaign_organizer, id = campaign_id).to_string()
        }
        Grant::UnionOrganizer { union_id } => {
            td_string!(locale, dashboard.role_union_organizer, id = union_id).to_string()
        }
        Grant::Officer { local_id } => {
            td_string!(locale, dashboard.role_officer, id = local_id).to_string()
        }
    };
    let roles = user.grants.iter().map(role_text).collect();
    let key_choices = user
        .grants
        .iter()
        .filter(|grant| grant.takes_api_key())
        .map(|grant| InviteChoice {
            value: grant.choice(),
            label: role_text(grant),
        })
        .collect();
    let invite_choices = if caller.is_admin() {
        rollcall::accounts::access::invite_choices(&state.db)
            .await
            .map_err(unexpected)?
            .into_iter()
            .map(|(grant, name)| InviteChoice {
                value: grant.choice(),
                label: match grant {
                    Grant::Admin => td_string!(locale, dashboard.invite_admin).to_owned(),
                    Grant::CampaignOrganizer { .. } => {
                        td_string!(locale, dashboard.invite_campaign_organizer, name).to_string()
                    }
                    Grant::UnionOrganizer { .. } => {
                        td_string!(locale, dashboard.invite_union_organizer, name).to_string()
                    }
                    Grant::Officer { .. } => {
                        td_string!(locale, dashboard.invite_officer, name).to_string()
                    }
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    let (failed_mail_count, failed_mail) = if caller.is_admin() {
        let (count, newest) = rollcall::mail::failed(&state.db, 20)
            .await
            .map_err(unexpected)?;
        let lines = newest
            .into_iter()
            .map(|mail| FailedMailLine {
                kind: mail.kind,
                written: mail.created_at.to_rfc3339(),
                attempts: mail.attempts,
                error: mail.last_error,
            })
            .collect();
        (count, lines)
    } else {
        (0, Vec::new())
    };
    let locals = rollcall::accounts::access::kept_locals(&state.db, &caller)
        .await
        .map_err(unexpected)?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    Ok(AccountView {
        email: user.email,
        needs_second_factor,
        totp_enabled: user.totp_enabled,
        roles,
        campaigns,
        locals,
        invite_choices,
        key_choices,
        failed_mail_count,
        failed_mail,
    })
}

/// Ten new recovery codes, shown once; the old ones stop working.
#[server(endpoint = "recovery_codes")]
pub async fn recovery_codes() -> Result<Vec<String>, AccountFormError> {
    let state = state()?;
    let rollcall::accounts::access::Caller::User(user) = caller(&state).await? else {
        return Err(AccountFormError::Forbidden);
    };
    rollcall::accounts::recovery::make_codes(&state.db, user.user_id, chrono::Utc::now())
        .await
        .map_err(unexpected)
}

/// An API key for one of the person's own grants (`campaign:ID` or `local:ID`), shown
/// once. It stops working when they are disabled or lose the grant.
#[server(endpoint = "create_api_key")]
pub async fn create_api_key(
    role: String,
    #[server(default)] label: String,
) -> Result<String, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    let grant = rollcall::domain::Grant::parse_choice(&role).ok_or(AccountFormError::Forbidden)?;
    match rollcall::accounts::access::create_key_as(
        &state.db,
        &caller,
        grant,
        &label,
        chrono::Utc::now(),
    )
    .await
    {
        Ok((_, key)) => Ok(key.as_str().to_owned()),
        Err(rollcall::accounts::access::KeyError::Db(err)) => Err(unexpected(err)),
        Err(_) => Err(AccountFormError::Forbidden),
    }
}

/// A person changes their own password; every session of theirs ends, this one too.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AccountFormError> {
    use rollcall::accounts::PasswordChangeError;
    let state = state()?;
    let caller = caller(&state).await?;
    let rollcall::accounts::access::Caller::User(user) = caller else {
        return Err(AccountFormError::Forbidden);
    };
    match rollcall::accounts::change_password(
        &state.db,
        user.user_id,
        &current,
        &new,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(()) => {
            set_cookie(&clear_session_cookie(state.secure_cookies));
            leptos_axum::redirect("/sign-in");
            Ok(())
        }
        Err(PasswordChangeError::Wrong) => Err(AccountFormError::WrongPassword),
        Err(PasswordChangeError::Weak(_)) => Err(AccountFormError::WeakPassword),
        Err(PasswordChangeError::Db(err)) => Err(unexpected(err)),
    }
}
