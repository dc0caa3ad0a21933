//! `/account`: the person's roles and campaigns, and what they may do from there.

use super::*;

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
                        let action_network = format!("{export}?preset=action_network");
                        view! {
                            <tr data-testid=format!("campaign-{}", c.slug)>
                                <td><a href=format!("/account/c/{}", c.slug)>{c.slug.clone()}</a></td>
                                <td>{status_text(c.status, language)}</td>
                                <td>{c.scope}</td>
                                <td class="number">{format_count(c.confirmed, language)}</td>
                                <td>
                                    <a href=export download>"CSV"</a>
                                    " · "
                                    <a href=organizing download>{td_string!(locale, dashboard.csv_organizing)}</a>
                                    " · "
                                    <a href=action_network download>{td_string!(locale, dashboard.csv_action_network)}</a>
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
                            {(!details.needs_second_factor).then(|| view! { <crate::pages::secrets::RecoveryCodesMaker language/> })}
                            {(!details.key_choices.is_empty()).then(|| view! { <crate::pages::secrets::ApiKeyMaker language choices=details.key_choices.clone()/> })}
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
pub(super) fn password_form(
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
pub(super) fn revoke_grant_form(
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
pub(super) fn password_reset_form(
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
