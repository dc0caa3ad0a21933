//! Secrets shown once on `/account`: new recovery codes and a new API key. The answer
//! is shown in place and never again, so the buttons need JavaScript: without it they
//! stay disabled (nothing is made that nobody could read) and the page says so.

use leptos::prelude::*;
use rollcall::{domain::Language, i18n::td_string};

use crate::account_fns::{CreateApiKey, InviteChoice, RecoveryCodes};

/// Ten new recovery codes; the old ones stop working.
#[island]
pub fn RecoveryCodesMaker(language: Language) -> impl IntoView {
    let locale = language.locale();
    let make = ServerAction::<RecoveryCodes>::new();
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <section aria-labelledby="recovery-heading" data-testid="recovery" data-ready=move || ready.get().then_some("true")>
            <h2 id="recovery-heading">{td_string!(locale, account.recovery_heading)}</h2>
            <p>{td_string!(locale, account.recovery_hint)}</p>
            <noscript><p>{td_string!(locale, account.secrets_need_script)}</p></noscript>
            <ActionForm action=make>
                <button type="submit" disabled=move || !ready.get()>{td_string!(locale, account.recovery_make)}</button>
            </ActionForm>
            {move || match make.value().get() {
                Some(Ok(codes)) => view! {
                    <p role="status">{td_string!(locale, account.shown_once)}</p>
                    <ul class="secrets" data-testid="recovery-codes">
                        {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                    </ul>
                }.into_any(),
                Some(Err(_)) => view! { <p class="form-error" role="alert">{td_string!(locale, account.secret_failed)}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}

/// An API key for one of the person's own grants; it stops with their access.
#[island]
pub fn ApiKeyMaker(language: Language, choices: Vec<InviteChoice>) -> impl IntoView {
    let locale = language.locale();
    let make = ServerAction::<CreateApiKey>::new();
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let options = choices
        .into_iter()
        .map(|choice| view! { <option value=choice.value>{choice.label}</option> })
        .collect_view();
    view! {
        <section aria-labelledby="key-heading" data-testid="api-keys" data-ready=move || ready.get().then_some("true")>
            <h2 id="key-heading">{td_string!(locale, account.key_heading)}</h2>
            <p>{td_string!(locale, account.key_hint)}</p>
            <noscript><p>{td_string!(locale, account.secrets_need_script)}</p></noscript>
            <ActionForm action=make>
                <label for="key-role">{td_string!(locale, dashboard.role)}</label>
                <select id="key-role" name="role">{options}</select>
                <label for="key-label">{td_string!(locale, account.key_label)}</label>
                <input id="key-label" name="label" maxlength="100"/>
                <button type="submit" disabled=move || !ready.get()>{td_string!(locale, account.key_make)}</button>
            </ActionForm>
            {move || match make.value().get() {
                Some(Ok(key)) => view! {
                    <p role="status">{td_string!(locale, account.shown_once)}</p>
                    <p><code class="secrets" data-testid="api-key">{key}</code></p>
                }.into_any(),
                Some(Err(_)) => view! { <p class="form-error" role="alert">{td_string!(locale, account.secret_failed)}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}
