//! Sign-in, the second factor, invitations and the account page. Plain forms that post
//! without JavaScript; nothing here ships to the browser.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use rollcall::domain::Language;
use rollcall::i18n::td_string;

use super::set_status;
use crate::account_fns::{
    AcceptInvitation, AccountFormError, ChangePassword, CheckCode, Enrol, ForcePasswordReset,
    Invite, RevokeGrant, SignIn, SignOut, SignOutEverywhere, account, enrolment, invitation,
};
use crate::components::{format_count, format_date, format_instant};
use crate::reader_language;

/// The message a failed step shows, tied to the form by `aria-describedby`.
pub(super) fn form_error(err: Option<AccountFormError>) -> impl IntoView {
    let language = reader_language();
    err.map(|err| {
        // A message made on the server is in English: say so to screen readers.
        let made_in_english = matches!(
            err,
            AccountFormError::Unreadable(_)
                | AccountFormError::Moderation(_)
                | AccountFormError::Campaign(_)
        );
        view! {
            <p class="form-error" id="form-error" role="alert" data-testid="form-error"
                lang=made_in_english.then_some("en")>{error_text(&err, language)}</p>
        }
    })
}

/// A failed step in the reader's words. Only the refusals that carry a message made on
/// the server (an unreadable sheet, a moderation or campaign edit refused) show that
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
        E::TooMany { retry_after_secs } => {
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
        E::Unexpected => td_string!(locale, dashboard.unexpected).to_owned(),
        E::Transport(_) => td_string!(locale, dashboard.transport).to_owned(),
        // Messages made on the server, in English.
        E::Unreadable(_) | E::Moderation(_) | E::Campaign(_) => err.to_string(),
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

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = last_error(sign_in);
    if error.is_some() {
        set_status(401);
    }
    let locale = reader_language().locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, account.sign_in_title))/>
        <Meta name="robots" content="noindex"/>
        <section class="notice account-form">
            <h1>{td_string!(locale, account.sign_in_title)}</h1>
            <p>{td_string!(locale, account.sign_in_for)}</p>
            {query_param("role_added").map(|_| view! {
                <p class="notice-ok" role="status" data-testid="role-added">{td_string!(locale, account.role_added)}</p>
            })}
            {form_error(error)}
            <ActionForm action=sign_in>
                <label for="email">{td_string!(locale, account.email)}</label>
                <input id="email" type="email" name="email" autocomplete="username" required/>
                <label for="password">{td_string!(locale, account.password)}</label>
                <input id="password" type="password" name="password" autocomplete="current-password" required/>
                <button type="submit" class="button-primary">{td_string!(locale, account.sign_in)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn CodePage() -> impl IntoView {
    let check = ServerAction::<CheckCode>::new();
    let error = last_error(check);
    if error.is_some() {
        set_status(401);
    }
    let locale = reader_language().locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, account.code_title))/>
        <Meta name="robots" content="noindex"/>
        <section class="notice account-form">
            <h1>{td_string!(locale, account.code_heading)}</h1>
            <p>{td_string!(locale, account.code_hint)} " " {td_string!(locale, account.code_or_recovery)}</p>
            {form_error(error)}
            <ActionForm action=check>
                <label for="code">{td_string!(locale, account.code)}</label>
                <input id="code" name="code" autocomplete="one-time-code" required/>
                <button type="submit" class="button-primary">{td_string!(locale, account.go_on)}</button>
            </ActionForm>
        </section>
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

/// Setting up an authenticator app: required before an account sees any signer.
#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let enrol = ServerAction::<Enrol>::new();
    let error = last_error(enrol);
    let details = Resource::new(|| (), |()| enrolment());
    let locale = reader_language().locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, account.app_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    match details.await {
                        Err(AccountFormError::NotSignedIn) => signed_out_view(),
                        Err(AccountFormError::Forbidden) => view! {
                            <section class="notice">
                                <h1>{td_string!(locale, account.app_ready)}</h1>
                                <p><a href="/account">{td_string!(locale, account.go_to_account)}</a></p>
                            </section>
                        }.into_any(),
                        Err(err) => view! { <section class="notice">{form_error(Some(err))}</section> }.into_any(),
                        Ok(details) => view! {
                            <section class="notice account-form">
                                <h1>{td_string!(locale, account.app_title)}</h1>
                                <p>{td_string!(locale, account.app_hint)}</p>
                                <div class="qr" role="img" aria-label=td_string!(locale, account.app_qr) inner_html=details.qr_svg></div>
                                <p>{td_string!(locale, account.key)} " " <code data-testid="totp-secret">{details.secret}</code></p>
                                {form_error(error)}
                                <ActionForm action=enrol>
                                    <label for="code">{td_string!(locale, account.app_code)}</label>
                                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required/>
                                    <button type="submit" class="button-primary">{td_string!(locale, account.turn_on)}</button>
                                </ActionForm>
                            </section>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// `/invite/{token}`: set a password and take up the role.
#[component]
pub fn InvitePage() -> impl IntoView {
    let token = use_params_map().with_untracked(|params| params.get("token").unwrap_or_default());
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = last_error(accept);
    let for_email = Resource::new(move || token.clone(), invitation);
    let language = reader_language();
    let locale = language.locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, account.invite_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let token = use_params_map().with_untracked(|params| params.get("token").unwrap_or_default());
                    match for_email.await {
                        Err(err) => {
                            set_status(410);
                            view! {
                                <section class="notice" data-testid="invitation-problem">
                                    <h1>{td_string!(locale, account.invite_unusable)}</h1>
                                    <p>{error_text(&err, language)}</p>
                                </section>
                            }.into_any()
                        }
                        Ok(email) => view! {
                            <section class="notice account-form">
                                <h1>{td_string!(locale, account.set_password)}</h1>
                                <p>{td_string!(locale, account.invite_for, email).to_string()}</p>
                                {form_error(error)}
                                <ActionForm action=accept>
                                    <input type="hidden" name="token" value=token/>
                                    <label for="password">{td_string!(locale, account.new_password)}</label>
                                    <input id="password" type="password" name="password" autocomplete="new-password" minlength="12"/>
                                    <button type="submit" class="button-primary">{td_string!(locale, account.go_on)}</button>
                                </ActionForm>
                            </section>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The signed-in person's roles, the campaigns they see signers of, and their exports.
#[component]
pub fn AccountPage() -> impl IntoView {
    let details = Resource::new(|| (), |()| account());
    let sign_out = ServerAction::<SignOut>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let invite = ServerAction::<Invite>::new();
    let invite_error = last_error(invite);
    let change_password = ServerAction::<ChangePassword>::new();
    let password_error = last_error(change_password);
    let revoke = ServerAction::<RevokeGrant>::new();
    let revoke_error = last_error(revoke);
    let reset = ServerAction::<ForcePasswordReset>::new();
    let reset_error = last_error(reset);
    let language = reader_language();
    let locale = language.locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.account_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let invite_error = invite_error.clone();
                let password_error = password_error.clone();
                let revoke_error = revoke_error.clone();
                let reset_error = reset_error.clone();
                Suspend::new(async move {
                    let details = match details.await {
                        Ok(details) => details,
                        Err(AccountFormError::NotSignedIn) => return signed_out_view(),
                        Err(err) => return view! { <section class="notice">{form_error(Some(err))}</section> }.into_any(),
                    };
                    let second_step = details.needs_second_factor.then(|| {
                        let (href, label) = if details.totp_enabled {
                            ("/sign-in/code", td_string!(locale, account.code_heading))
                        } else {
                            ("/account/two-factor", td_string!(locale, account.app_title))
                        };
                        view! {
                            <p class="form-error" data-testid="needs-second-factor">
                                {td_string!(locale, dashboard.finish_to_see)} " " <a href=href>{label}</a>
                            </p>
                        }
                    });
                    let campaigns = details.campaigns.into_iter().map(|c| {
                        let export = format!("/api/v1/campaigns/{}/signatures.csv", c.slug);
                        let organizing = format!("{export}?preset=organizing");
                        view! {
                            <tr data-testid=format!("campaign-{}", c.slug)>
                                <td><a href=format!("/account/c/{}", c.slug)>{c.slug.clone()}</a></td>
                                <td>{status_text(&c.status, language)}</td>
                                <td>{c.scope}</td>
                                <td class="number">{format_count(c.confirmed, language)}</td>
                                <td>
                                    <a href=export download>"CSV"</a>
                                    " · "
                                    <a href=organizing download>{td_string!(locale, dashboard.csv_organizing)}</a>
                                </td>
                            </tr>
                        }
                    }).collect_view();
                    let locals = (!details.locals.is_empty()).then(|| {
                        let items = details.locals.iter().map(|(id, name)| view! {
                            <li><a href=format!("/local/{id}")>{name.clone()}</a></li>
                        }).collect_view();
                        view! { <h2>{td_string!(locale, dashboard.your_locals)}</h2><ul data-testid="locals">{items}</ul> }
                    });
                    let failed_mail = (details.failed_mail_count > 0).then(|| {
                        let n = details.failed_mail_count;
                        let count = format_count(n, language);
                        let summary = crate::td_count!(language, n, dashboard.failed_mail_single | failed_mail_plural, count);
                        let rows = details.failed_mail.into_iter().map(|mail| view! {
                            <tr>
                                <td>{mail.kind}</td>
                                <td>{format_instant(&mail.written, language)}</td>
                                <td class="number">{mail.attempts}</td>
                                <td>{mail.error}</td>
                            </tr>
                        }).collect_view();
                        view! {
                            <section aria-labelledby="failed-mail-heading" data-testid="failed-mail">
                                <h2 id="failed-mail-heading">{td_string!(locale, dashboard.failed_mail_heading)}</h2>
                                <p>{summary}</p>
                                <table class="breakdown">
                                    <thead><tr>
                                        <th scope="col">{td_string!(locale, dashboard.failed_mail_kind)}</th>
                                        <th scope="col">{td_string!(locale, dashboard.failed_mail_written)}</th>
                                        <th scope="col">{td_string!(locale, dashboard.failed_mail_tries)}</th>
                                        <th scope="col">{td_string!(locale, dashboard.failed_mail_error)}</th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </section>
                        }
                    });
                    let is_admin = !details.invite_choices.is_empty();
                    let revoke_form = is_admin.then(|| revoke_grant_form(revoke, revoke_error, details.invite_choices.clone()));
                    let reset_form = is_admin.then(|| password_reset_form(reset, reset_error));
                    let password_form = (!details.needs_second_factor).then(|| password_form(change_password, password_error));
                    let admin = is_admin.then(|| {
                        let choices = details.invite_choices.into_iter().map(|choice| view! {
                            <option value=choice.value>{choice.label}</option>
                        }).collect_view();
                        view! {
                            <section aria-labelledby="invite-heading">
                                <h2 id="invite-heading">{td_string!(locale, dashboard.invite_heading)}</h2>
                                {form_error(invite_error)}
                                <ActionForm action=invite>
                                    <label for="invite-email">{td_string!(locale, dashboard.their_email)}</label>
                                    <input id="invite-email" type="email" name="email" required/>
                                    <label for="invite-role">{td_string!(locale, dashboard.role)}</label>
                                    <select id="invite-role" name="role">{choices}</select>
                                    <label for="invite-lang">{td_string!(locale, dashboard.invite_language)}</label>
                                    <select id="invite-lang" name="lang">
                                        {Language::ALL.map(|choice| view! {
                                            <option value=choice.code() selected=choice == language>{crate::language_name(choice)}</option>
                                        })}
                                    </select>
                                    <button type="submit" class="button-primary">{td_string!(locale, dashboard.send_invitation)}</button>
                                </ActionForm>
                            </section>
                        }
                    });
                    view! {
                        <section class="account">
                            <h1>{td_string!(locale, dashboard.account_title)}</h1>
                            <p>{td_string!(locale, dashboard.signed_in_as)} " " <strong data-testid="account-email">{details.email}</strong></p>
                            {second_step}
                            <p>{td_string!(locale, dashboard.roles)} " " {details.roles.join("; ")}</p>
                            <h2>{td_string!(locale, dashboard.campaigns)}</h2>
                            {is_admin.then(|| view! {
                                <p>
                                    <a href="/account/new-campaign">{td_string!(locale, dashboard.new_campaign)}</a>
                                    " · "
                                    <a href="/admin/locals">{td_string!(locale, dashboard.unions_title)}</a>
                                </p>
                            })}
                            <table class="breakdown">
                                <thead><tr>
                                    <th scope="col">{td_string!(locale, dashboard.campaign)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.status)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.signers_you_see)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.confirmed)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.export)}</th>
                                </tr></thead>
                                <tbody>{campaigns}</tbody>
                            </table>
                            {locals}
                            {admin}
                            {failed_mail}
                            {revoke_form}
                            {reset_form}
                            {password_form}
                            {(!details.needs_second_factor).then(|| view! { <super::secrets::RecoveryCodesMaker language/> })}
                            {(!details.key_choices.is_empty()).then(|| view! { <super::secrets::ApiKeyMaker language choices=details.key_choices.clone()/> })}
                            <ActionForm action=sign_out>
                                <button type="submit">{td_string!(locale, dashboard.sign_out)}</button>
                            </ActionForm>
                            <ActionForm action=everywhere>
                                <button type="submit">{td_string!(locale, dashboard.sign_out_everywhere)}</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// A campaign's status ("open") in the reader's words.
/// Changing one's own password: the current one is asked for, and every session ends.
fn password_form(
    action: ServerAction<ChangePassword>,
    error: Option<AccountFormError>,
) -> impl IntoView {
    let locale = reader_language().locale();
    view! {
        <section aria-labelledby="password-heading">
            <h2 id="password-heading">{td_string!(locale, dashboard.password_heading)}</h2>
            {form_error(error)}
            <ActionForm action=action>
                <label for="current-password">{td_string!(locale, dashboard.current_password)}</label>
                <input id="current-password" type="password" name="current" autocomplete="current-password" required/>
                <label for="new-password">{td_string!(locale, account.new_password)}</label>
                <input id="new-password" type="password" name="new" autocomplete="new-password" minlength="12" required/>
                <button type="submit">{td_string!(locale, dashboard.change_password)}</button>
            </ActionForm>
        </section>
    }
}

/// An admin takes a role back from someone, by their address and the role, with a reason.
fn revoke_grant_form(
    action: ServerAction<RevokeGrant>,
    error: Option<AccountFormError>,
    choices: Vec<crate::account_fns::InviteChoice>,
) -> impl IntoView {
    let locale = reader_language().locale();
    let options = choices
        .into_iter()
        .map(|choice| view! { <option value=choice.value>{choice.label}</option> })
        .collect_view();
    view! {
        <section aria-labelledby="revoke-heading">
            <h2 id="revoke-heading">{td_string!(locale, dashboard.revoke_heading)}</h2>
            {query_param("revoked").map(|_| view! {
                <p class="notice-ok" role="status" data-testid="revoked">{td_string!(locale, dashboard.revoked)}</p>
            })}
            {form_error(error)}
            <ActionForm action=action>
                <label for="revoke-email">{td_string!(locale, dashboard.their_email)}</label>
                <input id="revoke-email" type="email" name="email" required/>
                <label for="revoke-role">{td_string!(locale, dashboard.role)}</label>
                <select id="revoke-role" name="role">{options}</select>
                <label for="revoke-reason">{td_string!(locale, dashboard.revoke_reason)}</label>
                <input id="revoke-reason" name="reason" required/>
                <button type="submit">{td_string!(locale, dashboard.revoke_button)}</button>
            </ActionForm>
        </section>
    }
}

/// An admin forces someone's password reset, with a reason; they get a link by mail.
fn password_reset_form(
    action: ServerAction<ForcePasswordReset>,
    error: Option<AccountFormError>,
) -> impl IntoView {
    let locale = reader_language().locale();
    view! {
        <section aria-labelledby="reset-heading">
            <h2 id="reset-heading">{td_string!(locale, dashboard.reset_heading)}</h2>
            {query_param("reset").map(|_| view! {
                <p class="notice-ok" role="status" data-testid="reset">{td_string!(locale, dashboard.reset_done)}</p>
            })}
            {form_error(error)}
            <ActionForm action=action>
                <label for="reset-email">{td_string!(locale, dashboard.their_email)}</label>
                <input id="reset-email" type="email" name="email" required/>
                <label for="reset-reason">{td_string!(locale, dashboard.revoke_reason)}</label>
                <input id="reset-reason" name="reason" required/>
                <button type="submit">{td_string!(locale, dashboard.reset_button)}</button>
            </ActionForm>
        </section>
    }
}

fn status_text(status: &str, language: Language) -> String {
    let locale = language.locale();
    match status {
        "draft" => td_string!(locale, editor.status_draft),
        "open" => td_string!(locale, editor.status_open),
        "closed" => td_string!(locale, editor.status_closed),
        "archived" => td_string!(locale, editor.status_archived),
        other => other,
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

/// `/local/{id}`: a local's officer keeps its member count, enters paper sheets, and
/// watches its share on every campaign it can sign.
#[component]
pub fn LocalPage() -> impl IntoView {
    use crate::account_fns::{EnterPaper, SetMemberCount, UploadPaper, local_dashboard};
    let local_id = use_params_map()
        .with_untracked(|params| params.get("id").and_then(|id| id.parse::<i64>().ok()))
        .unwrap_or(0);
    let details = Resource::new(move || local_id, local_dashboard);
    let set_count = ServerAction::<SetMemberCount>::new();
    let paper = ServerAction::<EnterPaper>::new();
    let sheet = ServerAction::<UploadPaper>::new();
    let count_error = last_error(set_count);
    let paper_problem = last_error(paper).or_else(|| last_error(sheet));
    let language = reader_language();
    let locale = language.locale();
    let entered = query_count("entered").map(|n| {
        let count = format_count(n, language);
        crate::td_count!(
            language,
            n,
            dashboard.entered_single | entered_plural,
            count
        )
    });
    let member_list = ServerAction::<crate::pledge_fns::UploadMemberList>::new();
    let list_error = last_error(member_list);
    // How many addresses the list holds; never how many pledges it matched.
    let members_report = query_count("members").map(|members| {
        let count = format_count(members, language);
        let list = crate::td_count!(
            language,
            members,
            dashboard.list_holds_single | list_holds_plural,
            count
        );
        format!("{list} {}", td_string!(locale, dashboard.list_applies))
    });
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.local_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let (count_error, paper_problem) = (count_error.clone(), paper_problem.clone());
                let entered = entered.clone();
                let (list_error, members_report) = (list_error.clone(), members_report.clone());
                Suspend::new(async move {
                    let details = match details.await {
                        Ok(details) => details,
                        Err(err) => return refused_view(err),
                    };
                    // The date field's value, as the browser reads it.
                    let today = {
                        #[cfg(feature = "ssr")]
                        { chrono::Utc::now().date_naive().to_string() }
                        #[cfg(not(feature = "ssr"))]
                        { String::new() }
                    };
                    let members = details.member_count.map_or_else(
                        || td_string!(locale, dashboard.not_set).to_owned(),
                        |n| {
                            td_string!(
                                locale,
                                dashboard.count_as_of,
                                count = format_count(n, language),
                                date = format_date(&details.member_count_as_of.clone().unwrap_or_default(), language)
                            )
                            .to_string()
                        },
                    );
                    let history = details.history.iter().map(|h| view! {
                        <tr>
                            <td class="number">{format_count(h.member_count, language)}</td>
                            <td>{format_date(&h.as_of, language)}</td>
                            <td>{h.recorded_by.clone()}</td>
                            <td>{format_instant(&h.recorded_at, language)}</td>
                        </tr>
                    }).collect_view();
                    let slugs: Vec<(String, String)> = details.campaigns.iter()
                        .filter(|c| c.campaign_status == "open")
                        .map(|c| (c.campaign_slug.clone(), c.campaign_title.clone()))
                        .collect();
                    let campaign_options = || slugs.iter().map(|(slug, title)| view! {
                        <option value=slug.clone()>{title.clone()}</option>
                    }).collect_view();
                    let (paper_options, sheet_options) = (campaign_options(), campaign_options());
                    let campaigns = details.campaigns.into_iter().map(|c| {
                        let export = format!("/api/v1/campaigns/{}/signatures.csv?local={}", c.campaign_slug, details.local_id);
                        let trend_max = c.trend.iter().map(|d| d.count).max().unwrap_or(0).max(1);
                        let trend = c.trend.iter().map(|d| view! {
                            <tr><td>{format_date(&d.day, language)}</td><td class="number">{format_count(d.count, language)}</td>
                                <td><span class="bar" style=format!("width: {}%", d.count * 100 / trend_max)></span></td></tr>
                        }).collect_view();
                        let recent = c.recent.iter().map(|r| view! {
                            <li>{format!("{} {}", r.given_name, r.family_name)}
                                {r.paper.then_some(td_string!(locale, dashboard.paper_mark))}</li>
                        }).collect_view();
                        let confirmed = crate::td_count!(language, c.confirmed, dashboard.confirmed_suffix_single | confirmed_suffix_plural);
                        view! {
                            <section class="local-campaign" data-testid=format!("progress-{}", c.campaign_slug)>
                                <h2>{c.campaign_title.clone()}</h2>
                                <p class="share">
                                    <strong data-testid="confirmed">{format_count(c.confirmed, language)}</strong>{confirmed}
                                    {c.share.clone().map(|share| view! {
                                        ", " <strong data-testid="share">{share}</strong>{td_string!(locale, dashboard.of_members)}
                                    })}
                                    {td_string!(locale, dashboard.from_paper, count = format_count(c.paper, language)).to_string()}
                                </p>
                                {c.pledge.clone().map(|standing| {
                                    let queue = format!("/local/{}/verify/{}", details.local_id, c.campaign_slug);
                                    let waiting = standing.unreviewed;
                                    let count = format_count(waiting, language);
                                    let verify = crate::td_count!(language, waiting, dashboard.verify_link_single | verify_link_plural, count);
                                    view! {
                                        <p class="standing">
                                            {td_string!(locale, dashboard.threshold_label)} " "
                                            <strong data-testid="standing">{standing_text(standing, language)}</strong>
                                        </p>
                                        <p><a href=queue>{verify}</a></p>
                                    }
                                })}
                                <details>
                                    <summary>{td_string!(locale, dashboard.last_14_days)}</summary>
                                    <table class="trend"><thead><tr>
                                        <th scope="col">{td_string!(locale, dashboard.day)}</th>
                                        <th scope="col">{td_string!(locale, dashboard.confirmed)}</th>
                                        <th scope="col"><span class="visually-hidden">{td_string!(locale, dashboard.bar)}</span></th>
                                    </tr></thead>
                                    <tbody>{trend}</tbody></table>
                                </details>
                                <h3>{td_string!(locale, dashboard.latest_signers)}</h3>
                                {c.pledge.as_ref().is_some_and(|p| p.sealed).then(|| view! {
                                    <p class="hint">{td_string!(locale, dashboard.sealed_hint)}</p>
                                })}
                                <ul class="signers">{recent}</ul>
                                <p><a href=export download>{td_string!(locale, dashboard.download_local)}</a></p>
                            </section>
                        }
                    }).collect_view();
                    view! {
                        <section class="local">
                            <h1>{details.label.clone()}</h1>
                            {entered.map(|entered| view! {
                                <p class="notice-ok" role="status" data-testid="entered">
                                    {entered}
                                </p>
                            })}
                            <h2>{td_string!(locale, dashboard.member_count)}</h2>
                            <p>{td_string!(locale, dashboard.now)} " " <strong data-testid="member-count">{members}</strong></p>
                            {form_error(count_error)}
                            <ActionForm action=set_count>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="member-count">{td_string!(locale, dashboard.members)}</label>
                                <input id="member-count" name="member_count" inputmode="numeric" required/>
                                <label for="as-of">{td_string!(locale, dashboard.as_of)}</label>
                                <input id="as-of" name="as_of" type="date" value=today required/>
                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.save_member_count)}</button>
                            </ActionForm>
                            <details>
                                <summary>{td_string!(locale, dashboard.history)}</summary>
                                <table><thead><tr>
                                    <th scope="col">{td_string!(locale, dashboard.members)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.as_of)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.recorded_by)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.when)}</th>
                                </tr></thead>
                                <tbody>{history}</tbody></table>
                            </details>
                            {campaigns}
                            <h2>{td_string!(locale, dashboard.paper_heading)}</h2>
                            <p>{td_string!(locale, dashboard.paper_hint)}</p>
                            {paper_error(paper_problem)}
                            <ActionForm action=paper>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="paper-campaign">{td_string!(locale, dashboard.campaign)}</label>
                                <select id="paper-campaign" name="slug">{paper_options}</select>
                                <label for="paper-given">{td_string!(locale, dashboard.given_name)}</label>
                                <input id="paper-given" name="given_name" required/>
                                <label for="paper-family">{td_string!(locale, dashboard.family_name)}</label>
                                <input id="paper-family" name="family_name" required/>
                                <label for="paper-email">{td_string!(locale, dashboard.email_if_any)}</label>
                                <input id="paper-email" name="email" type="email"/>
                                <label for="paper-postal">{td_string!(locale, dashboard.postal_code)}</label>
                                <input id="paper-postal" name="postal_code"/>
                                <label for="paper-phone">{td_string!(locale, dashboard.phone)}</label>
                                <input id="paper-phone" name="phone" type="tel"/>
                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.enter_signature)}</button>
                            </ActionForm>
                            <ActionForm action=sheet>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="sheet-campaign">{td_string!(locale, dashboard.campaign)}</label>
                                <select id="sheet-campaign" name="slug">{sheet_options}</select>
                                <label for="sheet">{td_string!(locale, dashboard.sheet_label)}</label>
                                <textarea id="sheet" name="sheet" rows="8"></textarea>
                                <button type="submit">{td_string!(locale, dashboard.enter_sheet)}</button>
                            </ActionForm>
                            <h2>{td_string!(locale, dashboard.member_list)}</h2>
                            <p>{td_string!(locale, dashboard.member_list_hint)}</p>
                            {members_report.map(|r| view! { <p class="notice-ok" role="status" data-testid="member-list">{r}</p> })}
                            {form_error(list_error)}
                            <ActionForm action=member_list>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="member-list">{td_string!(locale, dashboard.member_addresses)}</label>
                                <textarea id="member-list" name="list" rows="6"></textarea>
                                <button type="submit">{td_string!(locale, dashboard.match_list)}</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// `/account/c/{slug}`: a campaign by status and by local, for its organizers.
#[component]
pub fn CampaignDashboardPage() -> impl IntoView {
    use crate::account_fns::{Moderate, campaign_dashboard};
    let slug = use_params_map().with_untracked(|params| params.get("slug").unwrap_or_default());
    let details = Resource::new(move || slug.clone(), campaign_dashboard);
    let moderate = ServerAction::<Moderate>::new();
    let moderation_error = last_error(moderate);
    let moderated = query_param("moderated").is_some();
    let release = ServerAction::<crate::pledge_fns::ReleaseAnnouncement>::new();
    let release_error = last_error(release);
    let released = query_param("released").is_some();
    let decide = ServerAction::<crate::pledge_fns::DecideMemberCount>::new();
    let decide_error = last_error(decide);
    let decided = query_param("decided").is_some();
    let resolve = ServerAction::<crate::account_fns::ResolveCollision>::new();
    let resolve_error = last_error(resolve);
    let resolved = query_param("resolved").is_some();
    let language = reader_language();
    let locale = language.locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.campaign_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let moderation_error = moderation_error.clone();
                let (release_error, decide_error) = (release_error.clone(), decide_error.clone());
                let resolve_error = resolve_error.clone();
                Suspend::new(async move {
                let details = match details.await {
                    Ok(details) => details,
                    Err(err) => return refused_view(err),
                };
                let slug = details.slug.clone();
                let moderation = details.can_moderate.then(|| view! {
                    <section aria-labelledby="moderate-heading">
                        <h2 id="moderate-heading">{td_string!(locale, dashboard.moderate_heading)}</h2>
                        <p>{td_string!(locale, dashboard.moderate_hint)}</p>
                        {moderated.then(|| view! { <p class="notice-ok" role="status" data-testid="moderated">{td_string!(locale, dashboard.done)}</p> })}
                        {form_error(moderation_error)}
                        <ActionForm action=moderate>
                            <input type="hidden" name="slug" value=slug/>
                            <label for="moderate-email">{td_string!(locale, dashboard.signer_email)}</label>
                            <input id="moderate-email" name="email" type="email" required/>
                            <label for="moderate-action">{td_string!(locale, dashboard.action)}</label>
                            <select id="moderate-action" name="action">
                                <option value="invalidate">{td_string!(locale, dashboard.invalidate)}</option>
                                <option value="restore">{td_string!(locale, dashboard.restore)}</option>
                            </select>
                            <label for="moderate-reason">{td_string!(locale, dashboard.reason)}</label>
                            <input id="moderate-reason" name="reason" required/>
                            <button type="submit" class="button-primary">{td_string!(locale, dashboard.apply)}</button>
                        </ActionForm>
                    </section>
                });
                let is_pledge = details.pledge.is_some();
                let proposals: Vec<_> = details.locals.iter().filter_map(|l| {
                    let standing = l.pledge.as_ref()?;
                    Some((l.local_id, l.label.clone(), standing.member_count, standing.proposed_member_count?))
                }).collect();
                let rows = details.locals.into_iter().map(|l| {
                    let standing = l.pledge.clone();
                    view! {
                        <tr id=format!("local-{}", l.local_id)>
                            <th scope="row">{l.label}</th>
                            <td class="number">{format_count(l.confirmed, language)}</td>
                            <td class="number">{l.member_count.map(|n| format_count(n, language)).unwrap_or_default()}</td>
                            <td class="number">{l.share.unwrap_or_default()}</td>
                            {is_pledge.then(|| view! {
                                <td class="number">{standing.as_ref().map(|s| format_count(s.verified, language)).unwrap_or_default()}</td>
                                <td data-testid=format!("standing-{}", l.local_id)>{standing.map(|s| standing_text(s, language)).unwrap_or_default()}</td>
                            })}
                        </tr>
                    }
                }).collect_view();
                let pledge = details.pledge.map(|rule| pledge_summary(&rule, details.state, details.reached_at.clone(), language));
                let proposals = (details.can_edit && !proposals.is_empty()).then(|| {
                    let slug = details.slug.clone();
                    view! {
                        <section aria-labelledby="proposals-heading">
                            <h2 id="proposals-heading">{td_string!(locale, dashboard.proposals_heading)}</h2>
                            <p>{td_string!(locale, dashboard.proposals_hint)}</p>
                            {decided.then(|| view! { <p class="notice-ok" role="status">{td_string!(locale, dashboard.done)}</p> })}
                            {form_error(decide_error.clone())}
                            <ul>{proposals.into_iter().map(|(local_id, label, frozen, proposed)| {
                                let slug = slug.clone();
                                let proposed = format_count(proposed, language);
                                let frozen = frozen.map_or_else(
                                    || td_string!(locale, dashboard.no_count).to_owned(),
                                    |n| format_count(n, language),
                                );
                                let line = td_string!(locale, dashboard.proposal, label = label.clone(), frozen, proposed = proposed.clone()).to_string();
                                view! {
                                    <li data-testid=format!("proposal-{local_id}")>
                                        {line} " "
                                        {["accept", "decline"].map(|decision| {
                                            let slug = slug.clone();
                                            let (proposed, label) = (proposed.clone(), label.clone());
                                            let (name, button) = if decision == "accept" {
                                                (td_string!(locale, dashboard.accept_for, proposed, label).to_string(), td_string!(locale, dashboard.accept))
                                            } else {
                                                (td_string!(locale, dashboard.decline_for, proposed, label).to_string(), td_string!(locale, dashboard.decline))
                                            };
                                            view! {
                                            <ActionForm action=decide attr:class="inline">
                                                <input type="hidden" name="slug" value=slug/>
                                                <input type="hidden" name="local_id" value=local_id/>
                                                <input type="hidden" name="decision" value=decision/>
                                                <button type="submit" aria-label=name>{button}</button>
                                            </ActionForm>
                                        }})}
                                    </li>
                                }
                            }).collect_view()}</ul>
                        </section>
                    }
                });
                let announcements = (!details.announcements.is_empty()).then(|| {
                    let slug = details.slug.clone();
                    view! {
                        <section aria-labelledby="announcements-heading">
                            <h2 id="announcements-heading">{td_string!(locale, dashboard.announcements_heading)}</h2>
                            {released.then(|| view! { <p class="notice-ok" role="status" data-testid="released">{td_string!(locale, dashboard.released_notice)}</p> })}
                            {form_error(release_error.clone())}
                            <ul class="announcements">{details.announcements.into_iter().map(|a| {
                                let what = if a.kind == "unmet" {
                                    td_string!(locale, dashboard.announcement_unmet)
                                } else {
                                    td_string!(locale, dashboard.announcement_reached)
                                };
                                let head = td_string!(
                                    locale,
                                    dashboard.announcement_head,
                                    what,
                                    scope = a.scope.clone().unwrap_or_else(|| {
                                        td_string!(locale, dashboard.whole_campaign).to_owned()
                                    }),
                                    date = format_date(&a.created_at, language)
                                )
                                .to_string();
                                let body = match a.released_at {
                                    Some(at) => view! {
                                        <p>
                                            {td_string!(locale, dashboard.released_on, date = format_instant(&at, language)).to_string()} " "
                                            {if a.finished { td_string!(locale, dashboard.everyone_told) } else { td_string!(locale, dashboard.sending) }}
                                        </p>
                                        <blockquote>{a.message}</blockquote>
                                    }.into_any(),
                                    None => {
                                        let field = format!("announcement-{}", a.id);
                                        let slug = slug.clone();
                                        view! {
                                            <ActionForm action=release>
                                                <input type="hidden" name="slug" value=slug/>
                                                <input type="hidden" name="announcement_id" value=a.id/>
                                                <label for=field.clone()>{td_string!(locale, dashboard.announcement_message)}</label>
                                                <textarea id=field name="message" rows="5" required>{a.message}</textarea>
                                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.release)}</button>
                                            </ActionForm>
                                        }.into_any()
                                    }
                                };
                                view! { <li data-testid=format!("announcement-{}", a.id)><h3>{head}</h3>{body}</li> }
                            }).collect_view()}</ul>
                        </section>
                    }
                });
                // Only the campaign's organizers and admins get any lines here.
                let review = (!details.collisions.is_empty() || resolved).then(|| {
                    let slug = details.slug.clone();
                    view! {
                        <section aria-labelledby="review-heading" data-testid="paper-review">
                            <h2 id="review-heading">{td_string!(locale, dashboard.review_heading)}</h2>
                            <p>{td_string!(locale, dashboard.review_hint)}</p>
                            {resolved.then(|| view! { <p class="notice-ok" role="status" data-testid="resolved">{td_string!(locale, dashboard.done)}</p> })}
                            {form_error(resolve_error.clone())}
                            <ul class="review">{details.collisions.into_iter().map(|c| {
                                let field = format!("collision-{}", c.id);
                                let (testid, label_for) = (field.clone(), field.clone());
                                let slug = slug.clone();
                                let earlier = td_string!(
                                    locale,
                                    dashboard.review_earlier,
                                    local = c.earlier_local.clone(),
                                    status = c.earlier_status.clone()
                                )
                                .to_string();
                                view! {
                                    <li data-testid=testid>
                                        <p>
                                            <strong>{format!("{} {}", c.given_name, c.family_name)}</strong>
                                            " <" {c.email} "> · " {c.local} " · " {c.entered_by} " · "
                                            {format_instant(&c.entered_at, language)}
                                        </p>
                                        <p>{earlier}{c.earlier_paper.then(|| td_string!(locale, dashboard.paper_mark))}</p>
                                        <ActionForm action=resolve>
                                            <input type="hidden" name="slug" value=slug/>
                                            <input type="hidden" name="collision_id" value=c.id/>
                                            <label for=label_for>{td_string!(locale, dashboard.action)}</label>
                                            <select id=field name="decision">
                                                <option value="remove">{td_string!(locale, dashboard.review_remove)}</option>
                                                <option value="keep">{td_string!(locale, dashboard.review_keep)}</option>
                                            </select>
                                            <button type="submit">{td_string!(locale, dashboard.apply)}</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}</ul>
                        </section>
                    }
                });
                let s = details.status;
                let count = |n: u64| format_count(n, language);
                view! {
                    <section class="campaign-dashboard account">
                        <h1>{details.title}</h1>
                        <dl class="status-counts" data-testid="status-counts">
                            <dt>{td_string!(locale, dashboard.pending)}</dt><dd>{count(s.pending)}</dd>
                            <dt>{td_string!(locale, dashboard.confirmed)}</dt><dd data-testid="status-confirmed">{count(s.confirmed)}</dd>
                            <dt>{td_string!(locale, dashboard.of_which_paper)}</dt><dd>{count(s.paper)}</dd>
                            <dt>{td_string!(locale, dashboard.withdrawn)}</dt><dd>{count(s.withdrawn)}</dd>
                            <dt>{td_string!(locale, dashboard.invalidated)}</dt><dd>{count(s.invalidated)}</dd>
                            {details.community_supporters.map(|n| view! {
                                <dt>{td_string!(locale, dashboard.community_supporters)}</dt><dd>{count(n)}</dd>
                            })}
                        </dl>
                        {pledge}
                        <table class="breakdown">
                            <caption>{td_string!(locale, dashboard.locals_by_share)}</caption>
                            <thead><tr>
                                <th scope="col">{td_string!(locale, dashboard.local)}</th>
                                <th scope="col">{td_string!(locale, dashboard.confirmed)}</th>
                                <th scope="col">{td_string!(locale, dashboard.members)}</th>
                                <th scope="col">{td_string!(locale, dashboard.share)}</th>
                                {is_pledge.then(|| view! {
                                    <th scope="col">{td_string!(locale, dashboard.verified)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.threshold)}</th>
                                })}
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                        {announcements}
                        {review}
                        {proposals}
                        <p><a href=format!("/api/v1/campaigns/{}/signatures.csv", details.slug) download>{td_string!(locale, dashboard.download_campaign)}</a></p>
                        {details.can_edit.then(|| view! {
                            <p><a href=format!("/account/c/{}/edit", details.slug)>{td_string!(locale, dashboard.edit_campaign)}</a></p>
                        })}
                        {moderation}
                    </section>
                }.into_any()
            })}}
        </Suspense>
    }
}

/// `/admin/locals`: the unions and their locals, and the locals CSV import (admins).
#[component]
pub fn LocalsAdminPage() -> impl IntoView {
    use crate::account_fns::{ImportLocals, unions_overview};
    let details = Resource::new(|| (), |()| unions_overview());
    let import = ServerAction::<ImportLocals>::new();
    let error = last_error(import);
    let language = reader_language();
    let locale = language.locale();
    let report = query_count("created").map(|created| {
        let count = |name: &str| format_count(query_count(name).unwrap_or_default(), language);
        td_string!(
            locale,
            dashboard.imported,
            unions = count("unions"),
            created = format_count(created, language),
            updated = count("updated")
        )
        .to_string()
    });
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.unions_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let (error, report) = (error.clone(), report.clone());
                Suspend::new(async move {
                    let unions = match details.await {
                        Ok(unions) => unions,
                        Err(err) => return refused_view(err),
                    };
                    let rows = unions.into_iter().map(|u| view! {
                        <tr><th scope="row">{u.name}</th><td>{u.slug}</td>
                            <td class="number">{format_count(u.locals, language)}</td>
                            <td class="number">{format_count(u.members, language)}</td></tr>
                    }).collect_view();
                    view! {
                        <section class="account">
                            <h1>{td_string!(locale, dashboard.unions_title)}</h1>
                            {report.map(|r| view! { <p class="notice-ok" role="status" data-testid="imported">{r}</p> })}
                            <table class="breakdown">
                                <thead><tr>
                                    <th scope="col">{td_string!(locale, dashboard.union)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.short_name)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.locals)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.members)}</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <h2>{td_string!(locale, dashboard.import_heading)}</h2>
                            <p>{td_string!(locale, dashboard.import_hint)}</p>
                            {form_error(error)}
                            <ActionForm action=import>
                                // The file's columns, named as the file names them.
                                <label for="locals-sheet">"union_slug,union_name,union_short_name,local,city,region,member_count,member_count_as_of"</label>
                                <textarea id="locals-sheet" name="sheet" rows="10"></textarea>
                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.import)}</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
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

/// `/local/{id}/verify/{slug}`: the local's pledges waiting for an officer's verdict.
#[component]
pub fn VerifyPage() -> impl IntoView {
    use crate::pledge_fns::{VerifyPledge, verification_queue};
    let (local_id, slug) = use_params_map().with_untracked(|params| {
        (
            params
                .get("id")
                .and_then(|id| id.parse::<i64>().ok())
                .unwrap_or(0),
            params.get("slug").unwrap_or_default(),
        )
    });
    let details = Resource::new(
        move || (slug.clone(), local_id),
        |(slug, id)| verification_queue(slug, id),
    );
    let verify = ServerAction::<VerifyPledge>::new();
    let error = last_error(verify);
    let language = reader_language();
    let locale = language.locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.verify_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let q = match details.await {
                        Ok(q) => q,
                        Err(err) => return refused_view(err),
                    };
                    let (campaign_slug, local_id) = (q.campaign_slug.clone(), q.local_id);
                    let verdicts = [
                        ("member", td_string!(locale, dashboard.member)),
                        ("not_member", td_string!(locale, dashboard.not_member)),
                    ];
                    let lines = q.lines.into_iter().map(|line| {
                        let name = format!("{} {}", line.given_name, line.family_name);
                        let forms = verdicts.map(|(verdict, label)| {
                            let (slug, id) = (campaign_slug.clone(), line.signature_id.clone());
                            let described = format!("{label}: {name}");
                            view! {
                                <ActionForm action=verify attr:class="inline">
                                    <input type="hidden" name="slug" value=slug/>
                                    <input type="hidden" name="local_id" value=local_id/>
                                    <input type="hidden" name="signature_id" value=id/>
                                    <input type="hidden" name="verdict" value=verdict/>
                                    <button type="submit" aria-label=described>{label}</button>
                                </ActionForm>
                            }
                        });
                        view! {
                            <tr data-testid="queue-line">
                                <th scope="row">{name.clone()}</th>
                                <td>{line.email}</td>
                                <td>{line.employer.unwrap_or_default()}</td>
                                <td>{format_date(&line.confirmed_at, language)}</td>
                                <td>{forms}</td>
                            </tr>
                        }
                    }).collect_view();
                    let counts = td_string!(
                        locale,
                        dashboard.verify_counts,
                        confirmed = format_count(q.confirmed, language),
                        verified = format_count(q.verified, language),
                        not_members = format_count(q.not_members, language),
                        waiting = format_count(q.unreviewed, language)
                    )
                    .to_string();
                    view! {
                        <section class="account verify">
                            <h1>{td_string!(locale, dashboard.verify_title)}</h1>
                            <p data-testid="verify-counts">{counts}</p>
                            {form_error(error)}
                            {if q.sealed {
                                view! { <p>{td_string!(locale, dashboard.verify_sealed)}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="breakdown">
                                        <thead><tr>
                                            <th scope="col">{td_string!(locale, dashboard.name)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.email)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.employer)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.confirmed_on)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.verdict)}</th>
                                        </tr></thead>
                                        <tbody>{lines}</tbody>
                                    </table>
                                }.into_any()
                            }}
                            <p><a href=format!("/local/{}", q.local_id)>{td_string!(locale, dashboard.back_to_local)}</a></p>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}
