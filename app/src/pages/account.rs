//! Sign-in, the second factor, invitations and the account page. Plain forms that post
//! without JavaScript; nothing here ships to the browser.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use rollcall::domain::Language;
use rollcall::i18n::td_string;

use super::set_status;
use crate::account_fns::{
    AcceptInvitation, AccountFormError, CheckCode, Enrol, Invite, SignIn, SignOut,
    SignOutEverywhere, account, enrolment, invitation,
};
use crate::reader_language;

/// The message a failed step shows, tied to the form by `aria-describedby`.
pub(super) fn form_error(err: Option<AccountFormError>) -> impl IntoView {
    let language = reader_language();
    err.map(|err| {
        view! {
            <p class="form-error" id="form-error" role="alert" data-testid="form-error">{error_text(&err, language)}</p>
        }
    })
}

/// A failed step in the reader's words: signing in and its second factor are
/// translated; the dashboards' own refusals are still in English (and the dashboards,
/// not yet translated, say so with `lang="en"`).
fn error_text(err: &AccountFormError, language: Language) -> String {
    use AccountFormError as E;
    let locale = language.locale();
    let minutes = |secs: &u64| secs.div_ceil(60);
    match err {
        E::WrongPassword => td_string!(locale, account.wrong_password).to_owned(),
        E::Locked { retry_after_secs } => {
            td_string!(locale, account.locked, minutes = minutes(retry_after_secs)).to_string()
        }
        E::WrongCode => td_string!(locale, account.wrong_code).to_owned(),
        E::MalformedCode => td_string!(locale, account.malformed_code).to_owned(),
        E::NotSignedIn => td_string!(locale, account.signed_out).to_owned(),
        E::InvitationUnknown => td_string!(locale, account.invitation_unknown).to_owned(),
        E::InvitationExpired => td_string!(locale, account.invitation_expired).to_owned(),
        E::WeakPassword => td_string!(locale, account.weak_password).to_owned(),
        E::TooMany { retry_after_secs } => td_string!(
            locale,
            account.too_many,
            minutes = minutes(retry_after_secs)
        )
        .to_string(),
        E::SecondFactorNeeded => td_string!(locale, account.second_factor).to_owned(),
        other => other.to_string(),
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
            <p>{td_string!(locale, account.code_hint)}</p>
            {form_error(error)}
            <ActionForm action=check>
                <label for="code">{td_string!(locale, account.code)}</label>
                <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required/>
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
    view! {
        <Title text="Your account · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let invite_error = invite_error.clone();
                Suspend::new(async move {
                    let details = match details.await {
                        Ok(details) => details,
                        Err(AccountFormError::NotSignedIn) => return signed_out_view(),
                        Err(err) => return view! { <section class="notice">{form_error(Some(err))}</section> }.into_any(),
                    };
                    let second_step = details.needs_second_factor.then(|| {
                        let (href, label) = if details.totp_enabled {
                            ("/sign-in/code", "Enter your code")
                        } else {
                            ("/account/two-factor", "Set up your authenticator app")
                        };
                        view! {
                            <p class="form-error" data-testid="needs-second-factor">
                                "You will see signers once you finish signing in. " <a href=href>{label}</a>
                            </p>
                        }
                    });
                    let campaigns = details.campaigns.into_iter().map(|c| {
                        let export = format!("/api/v1/campaigns/{}/signatures.csv", c.slug);
                        let organizing = format!("{export}?preset=organizing");
                        view! {
                            <tr data-testid=format!("campaign-{}", c.slug)>
                                <td><a href=format!("/account/c/{}", c.slug)>{c.slug.clone()}</a></td>
                                <td>{c.status}</td>
                                <td>{c.scope}</td>
                                <td class="number">{c.confirmed}</td>
                                <td>
                                    <a href=export download>"CSV"</a>
                                    " · "
                                    <a href=organizing download>"CSV for organizing tools"</a>
                                </td>
                            </tr>
                        }
                    }).collect_view();
                    let locals = (!details.locals.is_empty()).then(|| {
                        let items = details.locals.iter().map(|(id, name)| view! {
                            <li><a href=format!("/local/{id}")>{name.clone()}</a></li>
                        }).collect_view();
                        view! { <h2>"Your locals"</h2><ul data-testid="locals">{items}</ul> }
                    });
                    let is_admin = !details.invite_choices.is_empty();
                    let admin = is_admin.then(|| {
                        let choices = details.invite_choices.into_iter().map(|choice| view! {
                            <option value=choice.value>{choice.label}</option>
                        }).collect_view();
                        view! {
                            <section aria-labelledby="invite-heading">
                                <h2 id="invite-heading">"Invite someone"</h2>
                                {form_error(invite_error)}
                                <ActionForm action=invite>
                                    <label for="invite-email">"Their email"</label>
                                    <input id="invite-email" type="email" name="email" required/>
                                    <label for="invite-role">"Role"</label>
                                    <select id="invite-role" name="role">{choices}</select>
                                    <button type="submit" class="button-primary">"Send the invitation"</button>
                                </ActionForm>
                            </section>
                        }
                    });
                    view! {
                        <section lang="en" class="account">
                            <h1>"Your account"</h1>
                            <p>"Signed in as " <strong data-testid="account-email">{details.email}</strong></p>
                            {second_step}
                            <p>"Roles: " {details.roles.join("; ")}</p>
                            <h2>"Campaigns"</h2>
                            {is_admin.then(|| view! {
                                <p><a href="/account/new-campaign">"Start a new campaign"</a>" · "<a href="/admin/locals">"Unions and locals"</a></p>
                            })}
                            <table class="breakdown">
                                <thead><tr>
                                    <th scope="col">"Campaign"</th><th scope="col">"Status"</th>
                                    <th scope="col">"Signers you see"</th><th scope="col">"Confirmed"</th>
                                    <th scope="col">"Export"</th>
                                </tr></thead>
                                <tbody>{campaigns}</tbody>
                            </table>
                            {locals}
                            {admin}
                            <ActionForm action=sign_out>
                                <button type="submit">"Sign out"</button>
                            </ActionForm>
                            <ActionForm action=everywhere>
                                <button type="submit">"Sign out on every device"</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

fn query_param(name: &str) -> Option<String> {
    leptos_router::hooks::use_query_map().with_untracked(|query| query.get(name))
}

/// What an error page shows when a dashboard cannot be opened.
pub(super) fn refused_view(err: AccountFormError) -> AnyView {
    match err {
        AccountFormError::NotSignedIn => signed_out_view(),
        AccountFormError::SecondFactorNeeded => {
            set_status(401);
            view! {
                <section lang="en" class="notice" data-testid="needs-second-factor">
                    <h1>"Finish signing in"</h1>
                    <p><a href="/sign-in/code">"Enter the code from your authenticator app"</a></p>
                </section>
            }
            .into_any()
        }
        AccountFormError::Forbidden => {
            set_status(403);
            view! {
                <section lang="en" class="notice" data-testid="forbidden">
                    <h1>"Not yours to see"</h1>
                    <p>"Your role does not cover this page. " <a href="/account">"Your account"</a></p>
                </section>
            }
            .into_any()
        }
        AccountFormError::NotFound => {
            set_status(404);
            view! { <section lang="en" class="notice"><h1>"Not found"</h1></section> }.into_any()
        }
        err => view! { <section class="notice">{form_error(Some(err))}</section> }.into_any(),
    }
}

/// A paper sheet's problems, line by line.
fn paper_error(err: Option<AccountFormError>) -> impl IntoView {
    match err {
        Some(AccountFormError::PaperLines(lines)) => view! {
            <div class="form-error" role="alert" data-testid="form-error">
                <p>"Nothing was entered. These lines need attention:"</p>
                <ul>
                    {lines.into_iter().map(|(line, errors)| view! {
                        <li>{format!("Line {line}: {errors}")}</li>
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
    let entered = query_param("entered");
    let already = query_param("already").filter(|n| n != "0");
    let member_list = ServerAction::<crate::pledge_fns::UploadMemberList>::new();
    let list_error = last_error(member_list);
    let members_report = query_param("matched").map(|matched| {
        format!(
            "The list holds {} addresses; {matched} waiting pledges matched and are now verified.",
            query_param("members").unwrap_or_default()
        )
    });
    view! {
        <Title text="Your local · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let (count_error, paper_problem) = (count_error.clone(), paper_problem.clone());
                let (entered, already) = (entered.clone(), already.clone());
                let (list_error, members_report) = (list_error.clone(), members_report.clone());
                Suspend::new(async move {
                    let details = match details.await {
                        Ok(details) => details,
                        Err(err) => return refused_view(err),
                    };
                    let today = {
                        #[cfg(feature = "ssr")]
                        { chrono::Utc::now().date_naive().to_string() }
                        #[cfg(not(feature = "ssr"))]
                        { String::new() }
                    };
                    let members = details.member_count.map_or_else(
                        || "not set".to_owned(),
                        |n| format!("{n} (as of {})", details.member_count_as_of.clone().unwrap_or_default()),
                    );
                    let history = details.history.iter().map(|h| view! {
                        <tr><td class="number">{h.member_count}</td><td>{h.as_of.clone()}</td><td>{h.recorded_by.clone()}</td><td>{h.recorded_at.clone()}</td></tr>
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
                            <tr><td>{d.day.clone()}</td><td class="number">{d.count}</td>
                                <td><span class="bar" style=format!("width: {}%", d.count * 100 / trend_max)></span></td></tr>
                        }).collect_view();
                        let recent = c.recent.iter().map(|r| view! {
                            <li>{format!("{} {}", r.given_name, r.family_name)}
                                {r.paper.then_some(" (paper)")}</li>
                        }).collect_view();
                        view! {
                            <section class="local-campaign" data-testid=format!("progress-{}", c.campaign_slug)>
                                <h2>{c.campaign_title.clone()}</h2>
                                <p class="share">
                                    <strong data-testid="confirmed">{c.confirmed}</strong>" confirmed"
                                    {c.share.clone().map(|share| view! { ", " <strong data-testid="share">{share}</strong>" of members" })}
                                    {format!(" ({} from paper sheets)", c.paper)}
                                </p>
                                {c.pledge.clone().map(|standing| {
                                    let queue = format!("/local/{}/verify/{}", details.local_id, c.campaign_slug);
                                    let waiting = standing.unreviewed;
                                    view! {
                                        <p class="standing">"Threshold: " <strong data-testid="standing">{standing_text(standing)}</strong></p>
                                        <p><a href=queue>{format!("Verify this local's pledges ({waiting} waiting)")}</a></p>
                                    }
                                })}
                                <details>
                                    <summary>"The last 14 days"</summary>
                                    <table class="trend"><thead><tr><th scope="col">"Day"</th><th scope="col">"Confirmed"</th><th scope="col"><span class="visually-hidden">"Bar"</span></th></tr></thead>
                                    <tbody>{trend}</tbody></table>
                                </details>
                                <h3>"Latest signers"</h3>
                                {c.pledge.as_ref().is_some_and(|p| p.sealed).then(|| view! {
                                    <p class="hint">"Names are sealed until your local reaches its threshold; counts stay visible."</p>
                                })}
                                <ul class="signers">{recent}</ul>
                                <p><a href=export download>"Download this local's signers (CSV)"</a></p>
                            </section>
                        }
                    }).collect_view();
                    view! {
                        <section lang="en" class="local">
                            <h1>{details.label.clone()}</h1>
                            {entered.map(|n| view! {
                                <p class="notice-ok" role="status" data-testid="entered">
                                    {format!("{n} paper signatures entered.")}
                                    {already.map(|a| format!(" {a} had already signed and were skipped."))}
                                </p>
                            })}
                            <h2>"Member count"</h2>
                            <p>"Now: " <strong data-testid="member-count">{members}</strong></p>
                            {form_error(count_error)}
                            <ActionForm action=set_count>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="member-count">"Members"</label>
                                <input id="member-count" name="member_count" inputmode="numeric" required/>
                                <label for="as-of">"As of"</label>
                                <input id="as-of" name="as_of" type="date" value=today required/>
                                <button type="submit" class="button-primary">"Save the member count"</button>
                            </ActionForm>
                            <details>
                                <summary>"History"</summary>
                                <table><thead><tr><th scope="col">"Members"</th><th scope="col">"As of"</th><th scope="col">"Recorded by"</th><th scope="col">"When"</th></tr></thead>
                                <tbody>{history}</tbody></table>
                            </details>
                            {campaigns}
                            <h2>"Paper sign-up sheets"</h2>
                            <p>"Signatures collected on paper count once you enter them, marked as entered by you."</p>
                            {paper_error(paper_problem)}
                            <ActionForm action=paper>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="paper-campaign">"Campaign"</label>
                                <select id="paper-campaign" name="slug">{paper_options}</select>
                                <label for="paper-given">"Given name"</label>
                                <input id="paper-given" name="given_name" required/>
                                <label for="paper-family">"Family name"</label>
                                <input id="paper-family" name="family_name" required/>
                                <label for="paper-email">"Email (if on the sheet)"</label>
                                <input id="paper-email" name="email" type="email"/>
                                <label for="paper-postal">"Postal code"</label>
                                <input id="paper-postal" name="postal_code"/>
                                <label for="paper-phone">"Phone"</label>
                                <input id="paper-phone" name="phone" type="tel"/>
                                <button type="submit" class="button-primary">"Enter this signature"</button>
                            </ActionForm>
                            <ActionForm action=sheet>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="sheet-campaign">"Campaign"</label>
                                <select id="sheet-campaign" name="slug">{sheet_options}</select>
                                <label for="sheet">"A whole sheet as CSV: given_name,family_name,email,postal_code,phone,employer"</label>
                                <textarea id="sheet" name="sheet" rows="8"></textarea>
                                <button type="submit">"Enter the sheet"</button>
                            </ActionForm>
                            <h2>"Member list"</h2>
                            <p>"To verify pledges all at once, paste your local's member list: one email address a line (a CSV whose lines hold an address works too). Rollcall keeps only a keyed fingerprint of each address, never the list, and marks every waiting pledge whose address is on it as verified."</p>
                            {members_report.map(|r| view! { <p class="notice-ok" role="status" data-testid="member-list">{r}</p> })}
                            {form_error(list_error)}
                            <ActionForm action=member_list>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="member-list">"Member addresses"</label>
                                <textarea id="member-list" name="list" rows="6"></textarea>
                                <button type="submit">"Match the list"</button>
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
    view! {
        <Title text="Campaign dashboard · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let moderation_error = moderation_error.clone();
                let (release_error, decide_error) = (release_error.clone(), decide_error.clone());
                Suspend::new(async move {
                let details = match details.await {
                    Ok(details) => details,
                    Err(err) => return refused_view(err),
                };
                let slug = details.slug.clone();
                let moderation = details.can_moderate.then(|| view! {
                    <section aria-labelledby="moderate-heading">
                        <h2 id="moderate-heading">"Invalidate or restore a signature"</h2>
                        <p>"For a signature that should not count (a report of fraud, someone who says it was not them), or one invalidated by mistake. The tally follows at once; the reason goes to the audit log."</p>
                        {moderated.then(|| view! { <p class="notice-ok" role="status" data-testid="moderated">"Done."</p> })}
                        {form_error(moderation_error)}
                        <ActionForm action=moderate>
                            <input type="hidden" name="slug" value=slug/>
                            <label for="moderate-email">"The signer's email"</label>
                            <input id="moderate-email" name="email" type="email" required/>
                            <label for="moderate-action">"Action"</label>
                            <select id="moderate-action" name="action">
                                <option value="invalidate">"Invalidate"</option>
                                <option value="restore">"Restore"</option>
                            </select>
                            <label for="moderate-reason">"Reason"</label>
                            <input id="moderate-reason" name="reason" required/>
                            <button type="submit" class="button-primary">"Apply"</button>
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
                            <td class="number">{l.confirmed}</td>
                            <td class="number">{l.member_count.map(|n| n.to_string()).unwrap_or_default()}</td>
                            <td class="number">{l.share.unwrap_or_default()}</td>
                            {is_pledge.then(|| view! {
                                <td class="number">{standing.as_ref().map(|s| s.verified.to_string()).unwrap_or_default()}</td>
                                <td data-testid=format!("standing-{}", l.local_id)>{standing.map(standing_text).unwrap_or_default()}</td>
                            })}
                        </tr>
                    }
                }).collect_view();
                let pledge = details.pledge.map(|rule| pledge_summary(&rule, details.state, details.reached_at.clone()));
                let proposals = (details.can_edit && !proposals.is_empty()).then(|| {
                    let slug = details.slug.clone();
                    view! {
                        <section aria-labelledby="proposals-heading">
                            <h2 id="proposals-heading">"New member counts waiting"</h2>
                            <p>"Each local's member count was frozen when the pledge opened. An officer's newer count applies only once you accept it; a local that has reached its threshold stays reached."</p>
                            {decided.then(|| view! { <p class="notice-ok" role="status">"Done."</p> })}
                            {form_error(decide_error.clone())}
                            <ul>{proposals.into_iter().map(|(local_id, label, frozen, proposed)| {
                                let slug = slug.clone();
                                view! {
                                    <li data-testid=format!("proposal-{local_id}")>
                                        {format!("{label}: {} now, {proposed} proposed ", frozen.map_or_else(|| "no count".to_owned(), |n| n.to_string()))}
                                        {["accept", "decline"].map(|decision| {
                                            let slug = slug.clone();
                                            let name = format!("{} {proposed} for {label}", if decision == "accept" { "Accept" } else { "Decline" });
                                            view! {
                                            <ActionForm action=decide attr:class="inline">
                                                <input type="hidden" name="slug" value=slug/>
                                                <input type="hidden" name="local_id" value=local_id/>
                                                <input type="hidden" name="decision" value=decision/>
                                                <button type="submit" aria-label=name>
                                                    {if decision == "accept" { "Accept" } else { "Decline" }}
                                                </button>
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
                            <h2 id="announcements-heading">"Announcements to pledgers"</h2>
                            {released.then(|| view! { <p class="notice-ok" role="status" data-testid="released">"Released: the mail is going out."</p> })}
                            {form_error(release_error.clone())}
                            <ul class="announcements">{details.announcements.into_iter().map(|a| {
                                let what = if a.kind == "unmet" { "The deadline passed unmet" } else { "Threshold reached" };
                                let head = format!("{what}: {} ({})", a.scope, a.created_at);
                                let body = match a.released_at {
                                    Some(at) => view! {
                                        <p>{format!("Released {at}. ")}{if a.finished { "Everyone concerned has been written to." } else { "Sending…" }}</p>
                                        <blockquote>{a.message}</blockquote>
                                    }.into_any(),
                                    None => {
                                        let field = format!("announcement-{}", a.id);
                                        let slug = slug.clone();
                                        view! {
                                            <ActionForm action=release>
                                                <input type="hidden" name="slug" value=slug/>
                                                <input type="hidden" name="announcement_id" value=a.id/>
                                                <label for=field.clone()>"Message to every confirmed pledger concerned and the local's officers"</label>
                                                <textarea id=field name="message" rows="5" required>{a.message}</textarea>
                                                <button type="submit" class="button-primary">"Release"</button>
                                            </ActionForm>
                                        }.into_any()
                                    }
                                };
                                view! { <li data-testid=format!("announcement-{}", a.id)><h3>{head}</h3>{body}</li> }
                            }).collect_view()}</ul>
                        </section>
                    }
                });
                let s = details.status;
                view! {
                    <section lang="en" class="campaign-dashboard account">
                        <h1>{details.title}</h1>
                        <dl class="status-counts" data-testid="status-counts">
                            <dt>"Pending"</dt><dd>{s.pending}</dd>
                            <dt>"Confirmed"</dt><dd data-testid="status-confirmed">{s.confirmed}</dd>
                            <dt>"of which from paper"</dt><dd>{s.paper}</dd>
                            <dt>"Withdrawn"</dt><dd>{s.withdrawn}</dd>
                            <dt>"Invalidated"</dt><dd>{s.invalidated}</dd>
                            {details.community_supporters.map(|n| view! { <dt>"Community supporters"</dt><dd>{n}</dd> })}
                        </dl>
                        {pledge}
                        <table class="breakdown">
                            <caption>"Locals by share of membership"</caption>
                            <thead><tr><th scope="col">"Local"</th><th scope="col">"Confirmed"</th><th scope="col">"Members"</th><th scope="col">"Share"</th>
                                {is_pledge.then(|| view! { <th scope="col">"Verified"</th><th scope="col">"Threshold"</th> })}</tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                        {announcements}
                        {proposals}
                        <p><a href=format!("/api/v1/campaigns/{}/signatures.csv", details.slug) download>"Download the signers you may see (CSV)"</a></p>
                        {details.can_edit.then(|| view! { <p><a href=format!("/account/c/{}/edit", details.slug)>"Edit this campaign"</a></p> })}
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
    let report = query_param("created").map(|created| {
        format!(
            "Imported: {} unions and {created} locals created, {} locals updated.",
            query_param("unions").unwrap_or_default(),
            query_param("updated").unwrap_or_default()
        )
    });
    view! {
        <Title text="Unions and locals · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let (error, report) = (error.clone(), report.clone());
                Suspend::new(async move {
                    let unions = match details.await {
                        Ok(unions) => unions,
                        Err(err) => return refused_view(err),
                    };
                    let rows = unions.into_iter().map(|u| view! {
                        <tr><th scope="row">{u.name}</th><td>{u.slug}</td>
                            <td class="number">{u.locals}</td><td class="number">{u.members}</td></tr>
                    }).collect_view();
                    view! {
                        <section lang="en" class="account">
                            <h1>"Unions and locals"</h1>
                            {report.map(|r| view! { <p class="notice-ok" role="status" data-testid="imported">{r}</p> })}
                            <table class="breakdown">
                                <thead><tr><th scope="col">"Union"</th><th scope="col">"Short name"</th>
                                    <th scope="col">"Locals"</th><th scope="col">"Members"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <h2>"Import locals"</h2>
                            <p>"The locals file as in the documentation (docs/formats.md): a union is made the first time its short name appears, a local is matched by its name within its union, and a changed member count goes into the history. Importing the same file twice changes nothing."</p>
                            {form_error(error)}
                            <ActionForm action=import>
                                <label for="locals-sheet">"union_slug,union_name,union_short_name,local,city,region,member_count,member_count_as_of"</label>
                                <textarea id="locals-sheet" name="sheet" rows="10"></textarea>
                                <button type="submit" class="button-primary">"Import"</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// "12 of 18 needed", "reached 2026-11-26T10:00:00Z (2 withdrew since)", or why a local
/// cannot reach.
fn standing_text(s: rollcall::views::LocalStanding) -> String {
    let mut text = match (&s.reached_at, s.needed) {
        (Some(at), _) => format!("reached {at}"),
        (None, Some(needed)) => format!("{} of {needed} needed", s.counted),
        (None, None) => "cannot reach: no member count".to_owned(),
    };
    if s.withdrawn_since > 0 {
        text.push_str(&format!(" ({} withdrew since)", s.withdrawn_since));
    }
    if s.sealed {
        text.push_str(", names sealed");
    }
    text
}

/// A pledge's rule and where it stands, in words.
fn pledge_summary(
    rule: &rollcall::domain::PledgeRule,
    state: Option<rollcall::domain::PledgeState>,
    reached_at: Option<String>,
) -> impl IntoView + use<> {
    use rollcall::domain::PledgeState;
    let state = match (state, reached_at) {
        (Some(PledgeState::Reached), Some(at)) => format!("Reached on {at}."),
        (Some(PledgeState::NotReached), _) => {
            "The deadline passed without reaching the threshold.".to_owned()
        }
        _ => "Gathering pledges.".to_owned(),
    };
    view! {
        <section class="pledge-state" aria-labelledby="pledge-heading">
            <h2 id="pledge-heading">"When the pledge binds"</h2>
            <p>{crate::components::rule_text(rule, Language::En)}</p>
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
    view! {
        <Title text="Verify pledges · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let q = match details.await {
                        Ok(q) => q,
                        Err(err) => return refused_view(err),
                    };
                    let (campaign_slug, local_id) = (q.campaign_slug.clone(), q.local_id);
                    let lines = q.lines.into_iter().map(|line| {
                        let name = format!("{} {}", line.given_name, line.family_name);
                        let forms = [("member", "Member"), ("not_member", "Not a member")].map(|(verdict, label)| {
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
                                <td>{line.confirmed_at}</td>
                                <td>{forms}</td>
                            </tr>
                        }
                    }).collect_view();
                    view! {
                        <section lang="en" class="account verify">
                            <h1>"Verify pledges"</h1>
                            <p data-testid="verify-counts">{format!(
                                "{} confirmed: {} verified, {} not members, {} waiting.",
                                q.confirmed, q.verified, q.not_members, q.unreviewed
                            )}</p>
                            {form_error(error)}
                            {if q.sealed {
                                view! { <p>"Names are sealed until this local reaches its threshold. Match your member list on the local's page instead: only fingerprints of addresses are compared."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="breakdown">
                                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Employer"</th><th scope="col">"Confirmed"</th><th scope="col">"Verdict"</th></tr></thead>
                                        <tbody>{lines}</tbody>
                                    </table>
                                }.into_any()
                            }}
                            <p><a href=format!("/local/{}", q.local_id)>"Back to the local"</a></p>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}
