//! Server functions of the signed-in pages, by who calls them: `session` (a person's own
//! account), `officer`, `organizer` and `admin`. Each parses, calls a use case in
//! `rollcall`, applies its effects, and maps the error to one a page can show; what they
//! share (the error, the caller, the cookie) lives here.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::failure::{Failure, form_error};

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
    #[error("finish signing in with the code from your authenticator app")]
    SecondFactorNeeded,
    #[error("not found")]
    NotFound,
    #[error("the member count is a whole number of at least 1, as of a date not in the future")]
    InvalidMemberCount,
    #[error("some lines need attention")]
    PaperLines(Vec<(usize, rollcall::domain::FieldErrors)>),
    #[error("the upload was refused: {0:?}")]
    Unreadable(UploadProblem),
    /// A message made by an importer the command line shares (a locals file, a campaign's
    /// settings), in English.
    #[error("{0}")]
    Import(String),
    #[error("this local does not sign this campaign")]
    NotSigning,
    #[error("this campaign is not taking signatures")]
    Closed,
    #[error("the signature was not changed: {0:?}")]
    Moderation(ModerationProblem),
    #[error("the campaign was not changed: {0:?}")]
    Campaign(CampaignProblem),
    #[error(transparent)]
    Failed(Failure),
}

form_error!(AccountFormError);

/// Why a paper sheet or a member list was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadProblem {
    /// Not CSV with the expected header (near this line, when known).
    Csv {
        line: Option<u64>,
    },
    /// A member list's line that is not an email address.
    NotAnEmail {
        line: usize,
    },
    TooLong {
        most: usize,
    },
    /// A member list shorter than a quarter of the local's members (and never under ten).
    TooShort {
        least: usize,
    },
    /// An officer's member lists for the day are used up.
    NoAllowance {
        per_day: u32,
    },
}

/// Why an organizer's step on a campaign changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CampaignProblem {
    /// A status only moves forward: draft, open, closed, archived.
    StatusBackwards,
    AlreadyReleased,
    NoMessage,
    MessageTooLong {
        most: usize,
    },
    /// Neither "accept" nor "decline".
    NoDecision,
    /// No new member count waits for that local.
    NothingWaiting,
}

/// Why a moderation step, or an organizer's decision on a review, changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModerationProblem {
    /// The audit log keeps the reason; none was given.
    NoReason,
    NotCounted,
    NotInvalidated,
    /// Invalidated before it was confirmed: the signer can sign again.
    NeverConfirmed,
    ChangedMeanwhile,
    /// Neither "keep" nor "remove".
    NoDecision,
}

#[cfg(feature = "ssr")]
pub(crate) fn state() -> Result<AppState, AccountFormError> {
    use_context::<AppState>().ok_or(AccountFormError::Failed(Failure::Unexpected))
}

#[cfg(feature = "ssr")]
pub(crate) fn unexpected(err: impl std::fmt::Debug) -> AccountFormError {
    AccountFormError::unexpected(err)
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
    pub status: rollcall::domain::CampaignStatus,
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

/// The signed-in caller, who must have given the second factor.
#[cfg(feature = "ssr")]
pub(crate) async fn caller(
    state: &AppState,
) -> Result<rollcall::accounts::access::Caller, AccountFormError> {
    let user = signed_in_user(state).await?;
    if !user.second_factor {
        return Err(AccountFormError::SecondFactorNeeded);
    }
    Ok(rollcall::accounts::access::Caller::User(user))
}

mod admin;
mod officer;
mod organizer;
mod session;

pub use admin::*;
pub use officer::*;
pub use organizer::*;
pub use session::*;
