//! Sign-in, the second factor, invitations and the account page. Plain forms that post
//! without JavaScript; nothing here ships to the browser.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use rollcall::domain::{AnnouncementKind, CampaignStatus, Language, SignatureStatus};
use rollcall::i18n::td_string;

use super::set_status;
use crate::account_fns::{
    AcceptInvitation, AccountFormError, CampaignProblem, ChangePassword, CheckCode, Enrol,
    ForcePasswordReset, Invite, ModerationProblem, RevokeGrant, SignIn, SignOut, SignOutEverywhere,
    UploadProblem, account, enrolment, invitation,
};
use crate::components::{format_count, format_date, format_instant};
use crate::failure::Failure;
use crate::reader_language;

/// The message a failed step shows, tied to the form by `aria-describedby`.
pub(super) fn form_error(err: Option<AccountFormError>) -> impl IntoView {
    let language = reader_language();
    err.map(|err| {
        // A message made by an importer the command line shares is in English: say so
        // to screen readers.
        let made_in_english = matches!(err, AccountFormError::Import(_));
        view! {
            <p class="form-error" id="form-error" role="alert" data-testid="form-error"
                lang=made_in_english.then_some("en")>{error_text(&err, language)}</p>
        }
    })
}

/// A failed step in the reader's words. Only the refusals that carry a message made by
/// an importer the command line shares (a locals file, a campaign's settings) show that
/// message as it came, in English.
fn error_text(err: &AccountFormError, language: Language) -> String {
    use AccountFormError as E;
    let locale = language.locale();
    // How long to wait, in whole minutes: the number and how it is written.
    let wait = |secs: &u64| {
        let minutes = secs.div_ceil(60);
        (minutes, format_count(minutes, language))
    };
    match err {
        E::WrongPassword => td_string!(locale, account.wrong_password).to_owned(),
        E::Locked { retry_after_secs } => {
            let (n, minutes) = wait(retry_after_secs);
            crate::td_count!(language, n, account.locked_single | locked, minutes)
        }
        E::WrongCode => td_string!(locale, account.wrong_code).to_owned(),
        E::MalformedCode => td_string!(locale, account.malformed_code).to_owned(),
        E::NotSignedIn => td_string!(locale, account.signed_out).to_owned(),
        E::InvitationUnknown => td_string!(locale, account.invitation_unknown).to_owned(),
        E::InvitationExpired => td_string!(locale, account.invitation_expired).to_owned(),
        E::WeakPassword => td_string!(locale, account.weak_password).to_owned(),
        E::Failed(Failure::TooMany { retry_after_secs }) => {
            let (n, minutes) = wait(retry_after_secs);
            crate::td_count!(language, n, account.too_many_single | too_many, minutes)
        }
        E::SecondFactorNeeded => td_string!(locale, account.second_factor).to_owned(),
        E::Forbidden => td_string!(locale, dashboard.forbidden).to_owned(),
        E::InvalidEmail => td_string!(locale, dashboard.invalid_email).to_owned(),
        E::NotFound => td_string!(locale, dashboard.not_found).to_owned(),
        E::InvalidMemberCount => td_string!(locale, dashboard.invalid_member_count).to_owned(),
        E::PaperLines(_) => td_string!(locale, dashboard.paper_lines).to_owned(),
        E::NotSigning => td_string!(locale, dashboard.not_signing).to_owned(),
        E::Closed => td_string!(locale, dashboard.closed).to_owned(),
        E::Failed(Failure::Unexpected) => td_string!(locale, dashboard.unexpected).to_owned(),
        E::Failed(Failure::Transport(_)) => td_string!(locale, dashboard.transport).to_owned(),
        E::Unreadable(problem) => upload_text(*problem, language),
        E::Moderation(problem) => match problem {
            ModerationProblem::NoReason => td_string!(locale, dashboard.moderation_no_reason),
            ModerationProblem::NotCounted => {
                td_string!(locale, dashboard.moderation_not_counted)
            }
            ModerationProblem::NotInvalidated => {
                td_string!(locale, dashboard.moderation_not_invalidated)
            }
            ModerationProblem::NeverConfirmed => {
                td_string!(locale, dashboard.moderation_never_confirmed)
            }
            ModerationProblem::ChangedMeanwhile => {
                td_string!(locale, dashboard.moderation_changed_meanwhile)
            }
            ModerationProblem::NoDecision => {
                td_string!(locale, dashboard.moderation_no_decision)
            }
        }
        .to_owned(),
        E::Campaign(problem) => match problem {
            CampaignProblem::StatusBackwards => {
                td_string!(locale, editor.status_backwards).to_owned()
            }
            CampaignProblem::AlreadyReleased => {
                td_string!(locale, dashboard.already_released).to_owned()
            }
            CampaignProblem::NoMessage => td_string!(locale, dashboard.no_message).to_owned(),
            CampaignProblem::MessageTooLong { most } => td_string!(
                locale,
                dashboard.message_too_long,
                most = format_count(*most as u64, language)
            )
            .to_string(),
            CampaignProblem::NoDecision => {
                td_string!(locale, dashboard.accept_or_decline).to_owned()
            }
            CampaignProblem::NothingWaiting => {
                td_string!(locale, dashboard.nothing_waiting).to_owned()
            }
        },
        // Messages made by the importers the command line shares, in English.
        E::Import(_) => err.to_string(),
    }
}

/// Why an upload was refused, in the reader's words.
fn upload_text(problem: UploadProblem, language: Language) -> String {
    let locale = language.locale();
    match problem {
        UploadProblem::Csv { line: Some(line) } => td_string!(
            locale,
            dashboard.upload_unreadable_at,
            line = format_count(line, language)
        )
        .to_string(),
        UploadProblem::Csv { line: None } => {
            td_string!(locale, dashboard.upload_unreadable).to_owned()
        }
        UploadProblem::NotAnEmail { line } => td_string!(
            locale,
            dashboard.upload_not_an_email,
            line = format_count(line as u64, language)
        )
        .to_string(),
        UploadProblem::TooLong { most } => td_string!(
            locale,
            dashboard.upload_too_long,
            most = format_count(most as u64, language)
        )
        .to_string(),
        UploadProblem::TooShort { least } => td_string!(
            locale,
            dashboard.upload_too_short,
            least = format_count(least as u64, language)
        )
        .to_string(),
        UploadProblem::NoAllowance { per_day } => td_string!(
            locale,
            dashboard.upload_no_allowance,
            per_day = format_count(u64::from(per_day), language)
        )
        .to_string(),
    }
}

pub(super) fn last_error<T>(action: ServerAction<T>) -> Option<AccountFormError>
where
    T: leptos::server_fn::ServerFn<Output = (), Error = AccountFormError>
        + 'static
        + Send
        + Sync
        + Clone,
{
    match action.value().get_untracked() {
        Some(Err(err)) => Some(err),
        _ => None,
    }
}

fn signed_out_view() -> AnyView {
    set_status(401);
    let locale = reader_language().locale();
    view! {
        <section class="notice" data-testid="signed-out">
            <h1>{td_string!(locale, account.signed_out)}</h1>
            <p><a href="/sign-in">{td_string!(locale, account.sign_in)}</a></p>
        </section>
    }
    .into_any()
}

fn status_text(status: CampaignStatus, language: Language) -> String {
    let locale = language.locale();
    match status {
        CampaignStatus::Draft => td_string!(locale, editor.status_draft),
        CampaignStatus::Open => td_string!(locale, editor.status_open),
        CampaignStatus::Closed => td_string!(locale, editor.status_closed),
        CampaignStatus::Archived => td_string!(locale, editor.status_archived),
    }
    .to_owned()
}

fn query_param(name: &str) -> Option<String> {
    leptos_router::hooks::use_query_map().with_untracked(|query| query.get(name))
}

/// A count a redirect put in the address ("?entered=3"), if it is one.
fn query_count(name: &str) -> Option<u64> {
    query_param(name).and_then(|n| n.parse().ok())
}

/// What an error page shows when a dashboard cannot be opened.
pub(super) fn refused_view(err: AccountFormError) -> AnyView {
    let locale = reader_language().locale();
    match err {
        AccountFormError::NotSignedIn => signed_out_view(),
        AccountFormError::SecondFactorNeeded => {
            set_status(401);
            view! {
                <section class="notice" data-testid="needs-second-factor">
                    <h1>{td_string!(locale, dashboard.finish_signing_in)}</h1>
                    <p><a href="/sign-in/code">{td_string!(locale, dashboard.enter_app_code)}</a></p>
                </section>
            }
            .into_any()
        }
        AccountFormError::Forbidden => {
            set_status(403);
            view! {
                <section class="notice" data-testid="forbidden">
                    <h1>{td_string!(locale, dashboard.not_yours)}</h1>
                    <p>
                        {td_string!(locale, dashboard.role_not_covering)} " "
                        <a href="/account">{td_string!(locale, dashboard.account_title)}</a>
                    </p>
                </section>
            }
            .into_any()
        }
        AccountFormError::NotFound => {
            set_status(404);
            view! { <section class="notice"><h1>{td_string!(locale, dashboard.not_found_heading)}</h1></section> }.into_any()
        }
        err => view! { <section class="notice">{form_error(Some(err))}</section> }.into_any(),
    }
}

/// A field of a paper line, named as the paper form names it.
fn field_label(field: rollcall::domain::Field, language: Language) -> &'static str {
    use rollcall::domain::Field as F;
    let locale = language.locale();
    match field {
        F::GivenName => td_string!(locale, dashboard.given_name),
        F::FamilyName => td_string!(locale, dashboard.family_name),
        F::Email => td_string!(locale, dashboard.email),
        F::Local => td_string!(locale, dashboard.local),
        F::Employer => td_string!(locale, dashboard.employer),
        F::PostalCode => td_string!(locale, dashboard.postal_code),
        F::Phone => td_string!(locale, dashboard.phone),
        F::Language => td_string!(locale, site.language),
    }
}

/// A paper sheet's problems, line by line.
fn paper_error(err: Option<AccountFormError>) -> impl IntoView {
    let language = reader_language();
    let locale = language.locale();
    match err {
        Some(AccountFormError::PaperLines(lines)) => view! {
            <div class="form-error" role="alert" data-testid="form-error">
                <p>{td_string!(locale, dashboard.nothing_entered)}</p>
                <ul>
                    {lines.into_iter().map(|(line, errors)| {
                        let problems = errors
                            .iter()
                            .map(|e| {
                                td_string!(
                                    locale,
                                    dashboard.paper_problem,
                                    field = field_label(e.field, language),
                                    problem = e.problem.message(e.field, language)
                                )
                                .to_string()
                            })
                            .collect::<Vec<_>>()
                            .join(" ");
                        view! {
                            <li>{td_string!(locale, dashboard.paper_line, line, problems).to_string()}</li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        }
        .into_any(),
        other => form_error(other).into_any(),
    }
}

/// "12 of 18 needed", "reached Nov 26, 2026 (2 withdrew since)", or why a local cannot
/// reach, in the reader's words.
fn standing_text(s: rollcall::views::LocalStanding, language: Language) -> String {
    let locale = language.locale();
    let mut text = match (&s.reached_at, s.needed) {
        (Some(at), _) => td_string!(
            locale,
            dashboard.standing_reached,
            date = format_date(at, language)
        )
        .to_string(),
        (None, Some(needed)) => td_string!(
            locale,
            pledge.needed,
            count = format_count(s.counted, language),
            needed = format_count(needed, language)
        )
        .to_string(),
        (None, None) => td_string!(locale, dashboard.cannot_reach).to_owned(),
    };
    if s.withdrawn_since > 0 {
        text.push_str(&crate::components::withdrew_since_text(
            s.withdrawn_since,
            language,
        ));
    }
    if s.sealed {
        text.push_str(td_string!(locale, dashboard.names_sealed));
    }
    text
}

/// A pledge's rule and where it stands, in words.
fn pledge_summary(
    rule: &rollcall::domain::PledgeRule,
    state: Option<rollcall::domain::PledgeState>,
    reached_at: Option<String>,
    language: Language,
) -> impl IntoView + use<> {
    use rollcall::domain::PledgeState;
    let locale = language.locale();
    let state = match (state, reached_at) {
        (Some(PledgeState::Reached), Some(at)) => td_string!(
            locale,
            dashboard.reached_on,
            date = format_date(&at, language)
        )
        .to_string(),
        (Some(PledgeState::NotReached), _) => {
            td_string!(locale, dashboard.deadline_passed).to_owned()
        }
        _ => td_string!(locale, dashboard.gathering).to_owned(),
    };
    view! {
        <section class="pledge-state" aria-labelledby="pledge-heading">
            <h2 id="pledge-heading">{td_string!(locale, dashboard.when_binds)}</h2>
            <p>{crate::components::rule_text(rule, language)}</p>
            <p data-testid="pledge-state"><strong>{state}</strong></p>
        </section>
    }
}

mod campaign;
mod home;
mod local;
mod locals_admin;
mod sign_in;
mod verify;

pub use campaign::*;
pub use home::*;
pub use local::*;
pub use locals_admin::*;
pub use sign_in::*;
pub use verify::*;
