//! Signing in: the password, the code, setting up the authenticator app, and accepting an
//! invitation.

use super::*;

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
