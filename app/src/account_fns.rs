//! Server functions behind sign-in, the second factor, invitations and the account
//! page. Each parses, calls `rollcall::accounts` or `rollcall::access`, sets or clears
//! the session cookie, and maps the error to one a page can show.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::state::{AppState, clear_session_cookie, request_session_token, session_cookie};

/// Why a sign-in step did not go through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AccountFormError {
    #[error("that email and password do not match an account")]
    WrongPassword,
    #[error("too many wrong passwords; try again in {} minutes", retry_after_secs.div_ceil(60))]
    Locked { retry_after_secs: u64 },
    #[error("that code is not right; codes change every 30 seconds")]
    WrongCode,
    #[error("the code must be the 6 digits your app shows")]
    MalformedCode,
    #[error("you are not signed in")]
    NotSignedIn,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("this invitation link is not valid, or was used already")]
    InvitationUnknown,
    #[error("this invitation has expired; ask for a new one")]
    InvitationExpired,
    #[error("the password must have between 12 and 256 characters")]
    WeakPassword,
    #[error("that email address is not valid")]
    InvalidEmail,
    #[error("too many attempts from your connection; please try again in {} minutes", retry_after_secs.div_ceil(60))]
    TooMany { retry_after_secs: u64 },
    #[error("finish signing in with the code from your authenticator app")]
    SecondFactorNeeded,
    #[error("not found")]
    NotFound,
    #[error("the member count is a whole number of at least 1, as of a date not in the future")]
    InvalidMemberCount,
    #[error("some lines need attention")]
    PaperLines(Vec<(usize, rollcall::domain::FieldErrors)>),
    #[error("the sheet could not be read: {0}")]
    Unreadable(String),
    #[error("this local does not sign this campaign")]
    NotSigning,
    #[error("this campaign is not taking signatures")]
    Closed,
    #[error("{0}")]
    Moderation(String),
    #[error("{0}")]
    Campaign(String),
    #[error("something went wrong on our side")]
    Unexpected,
    #[error("the request could not be sent: {0}")]
    Transport(ServerFnErrorErr),
}

impl FromServerFnError for AccountFormError {
    type Encoder = JsonEncoding;
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value)
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn state() -> Result<AppState, AccountFormError> {
    use_context::<AppState>().ok_or(AccountFormError::Unexpected)
}

#[cfg(feature = "ssr")]
pub(crate) fn unexpected(err: impl std::fmt::Debug) -> AccountFormError {
    tracing::error!(error = ?err, "an account action failed");
    AccountFormError::Unexpected
}

#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

#[cfg(feature = "ssr")]
fn after_password(state: &AppState, signed_in: rollcall::accounts::SignedIn) {
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
fn code_error(err: rollcall::accounts::CodeError) -> AccountFormError {
    use rollcall::accounts::CodeError;
    match err {
        CodeError::NoSession => AccountFormError::NotSignedIn,
        CodeError::Wrong => AccountFormError::WrongCode,
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
        (_, Ok(code)) => rollcall::recovery::use_code(&state.db, &token, &code, now).await,
        _ => return Err(AccountFormError::MalformedCode),
    };
    // A wrong code may have locked the account and written its owner a mail.
    if checked.is_err() {
        state.mail_wake.notify_one();
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
fn accept_error(err: rollcall::accounts::AcceptError) -> AccountFormError {
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

/// The signed-in user of this request, whether or not they gave the second factor.
#[cfg(feature = "ssr")]
async fn signed_in_user(
    state: &AppState,
) -> Result<rollcall::accounts::SessionUser, AccountFormError> {
    let token = request_session_token().ok_or(AccountFormError::NotSignedIn)?;
    rollcall::accounts::session(&state.db, &token, chrono::Utc::now())
        .await
        .map_err(unexpected)?
        .ok_or(AccountFormError::NotSignedIn)
}

/// A campaign on the account page, with what the user may take from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountCampaign {
    pub slug: String,
    pub status: String,
    /// "all signers", or the locals in scope.
    pub scope: String,
    pub confirmed: u64,
}

/// Something an admin can invite someone to be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteChoice {
    /// `admin`, `campaign:ID`, `union:ID` or `local:ID`.
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub email: String,
    /// Whether this session still owes its code (or the app is not set up).
    pub needs_second_factor: bool,
    pub totp_enabled: bool,
    pub roles: Vec<String>,
    pub campaigns: Vec<AccountCampaign>,
    /// The locals whose records this user keeps: (id, label).
    pub locals: Vec<(i64, String)>,
    /// Filled for admins only.
    pub invite_choices: Vec<InviteChoice>,
    /// The person's own grants an API key can be made for.
    pub key_choices: Vec<InviteChoice>,
    /// Mail that failed for good (admins only): how many, and the newest.
    pub failed_mail_count: u64,
    pub failed_mail: Vec<FailedMailLine>,
}

/// A mail that failed for good, as admins see it: never whom it was for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedMailLine {
    pub kind: String,
    /// RFC 3339.
    pub written: String,
    pub attempts: i32,
    pub error: String,
}

#[server(endpoint = "account")]
pub async fn account() -> Result<AccountView, AccountFormError> {
    use rollcall::access::{Caller, SignerScope};
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
    for (found, scope, directory) in rollcall::access::visible_campaigns(&state.db, &caller)
        .await
        .map_err(unexpected)?
    {
        // The raw counts, not the public tally: an officer's own small local is not folded.
        let counts = rollcall::tally::counts(&state.db, found.id)
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
        .filter(|grant| {
            matches!(
                grant,
                Grant::CampaignOrganizer { .. } | Grant::Officer { .. }
            )
        })
        .map(|grant| InviteChoice {
            value: grant.choice(),
            label: role_text(grant),
        })
        .collect();
    let invite_choices = if caller.is_admin() {
        rollcall::access::invite_choices(&state.db)
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
    let locals = rollcall::access::kept_locals(&state.db, &caller)
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
        Ok(()) => {
            state.mail_wake.notify_one();
            leptos_axum::redirect("/account?invited=1");
            Ok(())
        }
        Err(rollcall::accounts::InviteError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(rollcall::accounts::InviteError::Email(_)) => Err(AccountFormError::InvalidEmail),
        Err(rollcall::accounts::InviteError::Db(err)) => Err(unexpected(err)),
    }
}

/// The signed-in caller, who must have given the second factor.
#[cfg(feature = "ssr")]
pub(crate) async fn caller(state: &AppState) -> Result<rollcall::access::Caller, AccountFormError> {
    let user = signed_in_user(state).await?;
    if !user.second_factor {
        return Err(AccountFormError::SecondFactorNeeded);
    }
    Ok(rollcall::access::Caller::User(user))
}

#[cfg(feature = "ssr")]
fn dashboard_error(err: rollcall::dashboards::DashboardError) -> AccountFormError {
    use rollcall::dashboards::DashboardError;
    match err {
        DashboardError::NotFound => AccountFormError::NotFound,
        DashboardError::Forbidden => AccountFormError::Forbidden,
        DashboardError::Db(err) => unexpected(err),
    }
}

/// A local's dashboard, for its officers and admins.
#[server(endpoint = "local_dashboard")]
pub async fn local_dashboard(
    local_id: i64,
) -> Result<rollcall::views::LocalDashboard, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    rollcall::dashboards::local_dashboard(&state.db, &caller, local_id, chrono::Utc::now())
        .await
        .map_err(dashboard_error)
}

/// A campaign's dashboard, for whoever may see any of its signers.
#[server(endpoint = "campaign_dashboard")]
pub async fn campaign_dashboard(
    slug: String,
) -> Result<rollcall::views::CampaignDashboard, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    rollcall::dashboards::campaign_dashboard(&state.db, &caller, &slug)
        .await
        .map_err(dashboard_error)
}

/// An officer sets their local's member count as of a date.
#[server(endpoint = "set_member_count")]
pub async fn set_member_count(
    local_id: i64,
    member_count: String,
    as_of: String,
) -> Result<(), AccountFormError> {
    use rollcall::membership::MemberCountError;
    let state = state()?;
    let caller = caller(&state).await?;
    let count = member_count
        .trim()
        .replace([',', ' '], "")
        .parse::<i64>()
        .map_err(|_| AccountFormError::InvalidMemberCount)?;
    let as_of = chrono::NaiveDate::parse_from_str(as_of.trim(), "%Y-%m-%d")
        .map_err(|_| AccountFormError::InvalidMemberCount)?;
    match rollcall::membership::set_member_count(
        &state.db,
        &caller,
        local_id,
        count,
        as_of,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(()) => {
            leptos_axum::redirect(&format!("/local/{local_id}?saved=1"));
            Ok(())
        }
        Err(MemberCountError::UnknownLocal) => Err(AccountFormError::NotFound),
        Err(MemberCountError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(MemberCountError::Invalid | MemberCountError::FutureDate) => {
            Err(AccountFormError::InvalidMemberCount)
        }
        Err(MemberCountError::Db(err)) => Err(unexpected(err)),
    }
}

#[cfg(feature = "ssr")]
async fn enter_lines(
    local_id: i64,
    slug: &str,
    lines: &[rollcall::domain::PaperInput],
) -> Result<(), AccountFormError> {
    use rollcall::paper::PaperError;
    let state = state()?;
    let caller = caller(&state).await?;
    match rollcall::paper::enter(
        &state.db,
        &caller,
        slug,
        local_id,
        lines,
        rollcall::paper::Notice {
            public_url: &state.public_url,
            limits: state.mail_limits,
        },
        state.clock.now(),
    )
    .await
    {
        Ok(entered) => {
            for _ in 0..entered.entered {
                state.hub.record(entered.campaign_id, Some(local_id), 1);
            }
            state.hub.refresh(entered.campaign_id);
            state.pledge_wake.notify_one();
            // A line whose address had signed wrote a mail to its owner.
            state.mail_wake.notify_one();
            // The lines received, never whether any address had signed before.
            leptos_axum::redirect(&format!("/local/{local_id}?entered={}", entered.entered));
            Ok(())
        }
        Err(PaperError::UnknownCampaign) => Err(AccountFormError::NotFound),
        Err(PaperError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(PaperError::NotSigning) => Err(AccountFormError::NotSigning),
        Err(PaperError::Closed) => Err(AccountFormError::Closed),
        Err(PaperError::Unreadable(why)) => Err(AccountFormError::Unreadable(why)),
        Err(PaperError::TooLong) => Err(AccountFormError::Unreadable(format!(
            "a sheet has at most {} lines",
            rollcall::paper::MAX_LINES
        ))),
        Err(PaperError::Invalid(lines)) => Err(AccountFormError::PaperLines(lines)),
        Err(PaperError::Db(err)) => Err(unexpected(err)),
    }
}

/// One signature from a paper sheet.
#[server(endpoint = "enter_paper")]
pub async fn enter_paper(
    local_id: i64,
    slug: String,
    given_name: String,
    family_name: String,
    #[server(default)] email: String,
    #[server(default)] postal_code: String,
    #[server(default)] phone: String,
    #[server(default)] employer: String,
) -> Result<(), AccountFormError> {
    let line = rollcall::domain::PaperInput {
        given_name,
        family_name,
        email,
        postal_code,
        phone,
        employer,
    };
    enter_lines(local_id, &slug, &[line]).await
}

/// A whole paper sheet as CSV (docs/formats.md), pasted or read from a file.
#[server(endpoint = "upload_paper")]
pub async fn upload_paper(
    local_id: i64,
    slug: String,
    sheet: String,
) -> Result<(), AccountFormError> {
    let lines = rollcall::paper::read_sheet(&sheet).map_err(|err| match err {
        rollcall::paper::PaperError::Unreadable(why) => AccountFormError::Unreadable(why),
        other => AccountFormError::Unreadable(other.to_string()),
    })?;
    enter_lines(local_id, &slug, &lines).await
}

/// An organizer keeps (`keep`) or removes (`remove`) a paper line whose address had
/// already signed.
#[server(endpoint = "resolve_collision")]
pub async fn resolve_collision(
    slug: String,
    collision_id: i64,
    decision: String,
) -> Result<(), AccountFormError> {
    use rollcall::collisions::{CollisionError, Resolution};
    let state = state()?;
    let caller = caller(&state).await?;
    let resolution = Resolution::parse(&decision)
        .ok_or_else(|| AccountFormError::Moderation("keep or remove".into()))?;
    match rollcall::collisions::resolve(
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
    use rollcall::moderation::{Action, ModerationError};
    let state = state()?;
    let caller = caller(&state).await?;
    let action = match action.as_str() {
        "invalidate" => Action::Invalidate,
        "restore" => Action::Restore,
        _ => return Err(AccountFormError::Forbidden),
    };
    match rollcall::moderation::moderate(
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
            if done.delta != 0 {
                state
                    .hub
                    .record(done.campaign_id, done.local_id, done.delta);
                state.hub.refresh(done.campaign_id);
                state.pledge_wake.notify_one();
            }
            leptos_axum::redirect(&format!("/account/c/{slug}?moderated=1"));
            Ok(())
        }
        Err(ModerationError::UnknownCampaign | ModerationError::NotFound) => {
            Err(AccountFormError::NotFound)
        }
        Err(ModerationError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(
            err @ (ModerationError::NoReason
            | ModerationError::Unchanged(_)
            | ModerationError::NeverConfirmed),
        ) => Err(AccountFormError::Moderation(err.to_string())),
        Err(ModerationError::Db(err)) => Err(unexpected(err)),
    }
}

#[cfg(feature = "ssr")]
fn locals_error(err: rollcall::membership::ImportLocalsError) -> AccountFormError {
    use rollcall::membership::ImportLocalsError;
    match err {
        ImportLocalsError::Forbidden => AccountFormError::Forbidden,
        ImportLocalsError::Invalid(why) => AccountFormError::Unreadable(why),
        ImportLocalsError::Db(err) => unexpected(err),
    }
}

/// The unions and how many locals and members each has (admins).
#[server(endpoint = "unions_overview")]
pub async fn unions_overview() -> Result<Vec<rollcall::views::UnionLine>, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    rollcall::membership::unions_overview(&state.db, &caller)
        .await
        .map_err(locals_error)
}

/// An admin pastes the locals CSV (docs/formats.md).
#[server(endpoint = "import_locals")]
pub async fn import_locals(sheet: String) -> Result<(), AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    let report =
        rollcall::membership::import_locals(&state.db, &caller, &sheet, chrono::Utc::now())
            .await
            .map_err(locals_error)?;
    leptos_axum::redirect(&format!(
        "/admin/locals?unions={}&created={}&updated={}",
        report.unions_created, report.locals_created, report.locals_updated
    ));
    Ok(())
}

// Taking access back, and the person's own keys: changing the password, an admin
// revoking a grant, recovery codes, API keys that answer to their maker.

/// A person changes their own password; every session of theirs ends, this one too.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AccountFormError> {
    use rollcall::accounts::PasswordChangeError;
    let state = state()?;
    let caller = caller(&state).await?;
    let rollcall::access::Caller::User(user) = caller else {
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

/// An admin takes a role from someone; their sessions end at once. Audited with the
/// admin's name and the reason.
#[server(endpoint = "revoke_grant")]
pub async fn revoke_grant(
    email: String,
    role: String,
    reason: String,
) -> Result<(), AccountFormError> {
    use rollcall::revoking::Why;
    let state = state()?;
    let caller = caller(&state).await?;
    if !caller.is_admin() {
        return Err(AccountFormError::Forbidden);
    }
    let grant = rollcall::domain::Grant::parse_choice(&role).ok_or(AccountFormError::NotFound)?;
    let by = caller.label();
    match rollcall::revoking::revoke_grant(
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
fn revoke_error(err: rollcall::revoking::RevokeError) -> AccountFormError {
    use rollcall::revoking::RevokeError;
    match err {
        RevokeError::UnknownAccount(_) | RevokeError::NoSuchGrant | RevokeError::NoRole => {
            AccountFormError::NotFound
        }
        err @ RevokeError::Unexplained => AccountFormError::Moderation(err.to_string()),
        RevokeError::Db(err) => unexpected(err),
    }
}

/// An admin forces someone's password reset: it stops working at once, their sessions
/// end, and they are mailed a link to set a new one. Audited with the reason.
#[server(endpoint = "force_password_reset")]
pub async fn force_password_reset(email: String, reason: String) -> Result<(), AccountFormError> {
    use rollcall::revoking::Why;
    let state = state()?;
    let caller = caller(&state).await?;
    if !caller.is_admin() {
        return Err(AccountFormError::Forbidden);
    }
    let by = caller.label();
    rollcall::revoking::force_password_reset(
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
    state.mail_wake.notify_one();
    leptos_axum::redirect("/account?reset=1");
    Ok(())
}

/// Ten new recovery codes, shown once; the old ones stop working.
#[server(endpoint = "recovery_codes")]
pub async fn recovery_codes() -> Result<Vec<String>, AccountFormError> {
    let state = state()?;
    let rollcall::access::Caller::User(user) = caller(&state).await? else {
        return Err(AccountFormError::Forbidden);
    };
    rollcall::recovery::make_codes(&state.db, user.user_id, chrono::Utc::now())
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
    match rollcall::access::create_key_as(&state.db, &caller, grant, &label, chrono::Utc::now())
        .await
    {
        Ok((_, key)) => Ok(key.as_str().to_owned()),
        Err(rollcall::access::KeyError::Db(err)) => Err(unexpected(err)),
        Err(_) => Err(AccountFormError::Forbidden),
    }
}
