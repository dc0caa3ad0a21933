//! Sign-in, the second factor, invitations and the account page. Plain forms that post
//! without JavaScript; nothing here ships to the browser.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use super::set_status;
use crate::account_fns::{
    AcceptInvitation, AccountFormError, CheckCode, Enrol, Invite, SignIn, SignOut,
    SignOutEverywhere, account, enrolment, invitation,
};

/// The message a failed step shows, tied to the form by `aria-describedby`.
fn form_error(err: Option<AccountFormError>) -> impl IntoView {
    err.map(|err| {
        view! {
            <p class="form-error" id="form-error" role="alert" data-testid="form-error">{err.to_string()}</p>
        }
    })
}

fn last_error<T: 'static + Send + Sync + Clone>(action: ServerAction<T>) -> Option<AccountFormError>
where
    T: leptos::server_fn::ServerFn<Output = (), Error = AccountFormError>,
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
    view! {
        <Title text="Sign in · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <section class="notice account-form">
            <h1>"Sign in"</h1>
            <p>"For organizers, local officers and admins. Signing a campaign needs no account."</p>
            {form_error(error)}
            <ActionForm action=sign_in>
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="username" required/>
                <label for="password">"Password"</label>
                <input id="password" type="password" name="password" autocomplete="current-password" required/>
                <button type="submit" class="button-primary">"Sign in"</button>
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
    view! {
        <Title text="Your code · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <section class="notice account-form">
            <h1>"Enter your code"</h1>
            <p>"Open your authenticator app and enter the 6-digit code it shows for Rollcall."</p>
            {form_error(error)}
            <ActionForm action=check>
                <label for="code">"Code"</label>
                <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required/>
                <button type="submit" class="button-primary">"Continue"</button>
            </ActionForm>
        </section>
    }
}

fn signed_out_view() -> AnyView {
    set_status(401);
    view! {
        <section class="notice" data-testid="signed-out">
            <h1>"You are not signed in"</h1>
            <p><a href="/sign-in">"Sign in"</a></p>
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
    view! {
        <Title text="Set up your authenticator app · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    match details.await {
                        Err(AccountFormError::NotSignedIn) => signed_out_view(),
                        Err(AccountFormError::Forbidden) => view! {
                            <section class="notice">
                                <h1>"Your authenticator app is set up"</h1>
                                <p><a href="/account">"Go to your account"</a></p>
                            </section>
                        }.into_any(),
                        Err(err) => view! { <section class="notice">{form_error(Some(err))}</section> }.into_any(),
                        Ok(details) => view! {
                            <section class="notice account-form">
                                <h1>"Set up your authenticator app"</h1>
                                <p>"This account can see who signed, so it needs a second step at sign-in. Scan the code with an authenticator app (such as Aegis, FreeOTP or Google Authenticator), or type in the key."</p>
                                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=details.qr_svg></div>
                                <p>"Key: " <code data-testid="totp-secret">{details.secret}</code></p>
                                {form_error(error)}
                                <ActionForm action=enrol>
                                    <label for="code">"The 6-digit code your app now shows"</label>
                                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required/>
                                    <button type="submit" class="button-primary">"Turn it on"</button>
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
    view! {
        <Title text="Your invitation · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let token = use_params_map().with_untracked(|params| params.get("token").unwrap_or_default());
                    match for_email.await {
                        Err(err) => {
                            set_status(410);
                            view! {
                                <section class="notice" data-testid="invitation-problem">
                                    <h1>"This invitation cannot be used"</h1>
                                    <p>{err.to_string()}</p>
                                </section>
                            }.into_any()
                        }
                        Ok(email) => view! {
                            <section class="notice account-form">
                                <h1>"Set your password"</h1>
                                <p>"For " <strong>{email}</strong> ". If this address already has an account, leave the password empty: the new role is added to it."</p>
                                {form_error(error)}
                                <ActionForm action=accept>
                                    <input type="hidden" name="token" value=token/>
                                    <label for="password">"Password (at least 12 characters)"</label>
                                    <input id="password" type="password" name="password" autocomplete="new-password" minlength="12"/>
                                    <button type="submit" class="button-primary">"Continue"</button>
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
                                <td><a href=format!("/c/{}", c.slug)>{c.slug.clone()}</a></td>
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
                    let admin = (!details.invite_choices.is_empty()).then(|| {
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
                        <section class="account">
                            <h1>"Your account"</h1>
                            <p>"Signed in as " <strong data-testid="account-email">{details.email}</strong></p>
                            {second_step}
                            <p>"Roles: " {details.roles.join("; ")}</p>
                            <h2>"Campaigns"</h2>
                            <table class="breakdown">
                                <thead><tr>
                                    <th scope="col">"Campaign"</th><th scope="col">"Status"</th>
                                    <th scope="col">"Signers you see"</th><th scope="col">"Confirmed"</th>
                                    <th scope="col">"Export"</th>
                                </tr></thead>
                                <tbody>{campaigns}</tbody>
                            </table>
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
