//! Secrets shown once on `/account`: new recovery codes and a new API key. The answer
//! is shown in place and never again, so the buttons need JavaScript: without it they
//! stay disabled (nothing is made that nobody could read) and the page says so.
//!
//! Both call their server function with the browser's own `fetch` rather than a
//! `ServerAction`: every island shares one wasm file, and the server-function client
//! added 60 KB (Brotli) to every public page for two buttons on one page. As written
//! they cost 15.8 KB (116.2 KB against 100.4 KB without them).

use leptos::prelude::*;
use rollcall::{domain::Language, i18n::td_string};

use crate::account_fns::InviteChoice;

/// What a press brought back: nothing yet, the secrets, or a failure (made only in the
/// browser).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Made {
    Nothing,
    Secrets(Vec<String>),
    Failed,
}

/// Ten new recovery codes; the old ones stop working.
#[island]
pub fn RecoveryCodesMaker(language: Language) -> impl IntoView {
    let locale = language.locale();
    let made = RwSignal::new(Made::Nothing);
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use leptos::server_fn::ServerFn;
            let path = <crate::account_fns::RecoveryCodes as ServerFn>::PATH;
            made.set(
                browser::post(path, &[])
                    .await
                    .map_or(Made::Failed, Made::Secrets),
            );
        });
    };
    view! {
        <section aria-labelledby="recovery-heading" data-testid="recovery" data-ready=move || ready.get().then_some("true")>
            <h2 id="recovery-heading">{td_string!(locale, account.recovery_heading)}</h2>
            <p>{td_string!(locale, account.recovery_hint)}</p>
            <noscript><p>{td_string!(locale, account.secrets_need_script)}</p></noscript>
            <form on:submit=make>
                <button type="submit" disabled=move || !ready.get()>{td_string!(locale, account.recovery_make)}</button>
            </form>
            {move || match made.get() {
                Made::Secrets(codes) => view! {
                    <p role="status">{td_string!(locale, account.shown_once)}</p>
                    <ul class="secrets" data-testid="recovery-codes">
                        {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                    </ul>
                }.into_any(),
                Made::Failed => view! { <p class="form-error" role="alert">{td_string!(locale, account.secret_failed)}</p> }.into_any(),
                Made::Nothing => ().into_any(),
            }}
        </section>
    }
}

/// An API key for one of the person's own grants; it stops with their access.
#[island]
pub fn ApiKeyMaker(language: Language, choices: Vec<InviteChoice>) -> impl IntoView {
    let locale = language.locale();
    let made = RwSignal::new(Made::Nothing);
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let role = RwSignal::new(choices.first().map(|c| c.value.clone()).unwrap_or_default());
    let label = RwSignal::new(String::new());
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use leptos::server_fn::ServerFn;
            let path = <crate::account_fns::CreateApiKey as ServerFn>::PATH;
            let fields = [
                ("role", role.get_untracked()),
                ("label", label.get_untracked()),
            ];
            made.set(
                browser::post(path, &fields)
                    .await
                    .map_or(Made::Failed, Made::Secrets),
            );
        });
    };
    let options = choices
        .into_iter()
        .map(|choice| view! { <option value=choice.value>{choice.label}</option> })
        .collect_view();
    view! {
        <section aria-labelledby="key-heading" data-testid="api-keys" data-ready=move || ready.get().then_some("true")>
            <h2 id="key-heading">{td_string!(locale, account.key_heading)}</h2>
            <p>{td_string!(locale, account.key_hint)}</p>
            <noscript><p>{td_string!(locale, account.secrets_need_script)}</p></noscript>
            <form on:submit=make>
                <label for="key-role">{td_string!(locale, dashboard.role)}</label>
                <select id="key-role" name="role" on:change=move |ev| role.set(event_target_value(&ev))>{options}</select>
                <label for="key-label">{td_string!(locale, account.key_label)}</label>
                <input id="key-label" name="label" maxlength="100" on:input=move |ev| label.set(event_target_value(&ev))/>
                <button type="submit" disabled=move || !ready.get()>{td_string!(locale, account.key_make)}</button>
            </form>
            {move || match made.get() {
                Made::Secrets(key) => view! {
                    <p role="status">{td_string!(locale, account.shown_once)}</p>
                    <p><code class="secrets" data-testid="api-key">{key.concat()}</code></p>
                }.into_any(),
                Made::Failed => view! { <p class="form-error" role="alert">{td_string!(locale, account.secret_failed)}</p> }.into_any(),
                Made::Nothing => ().into_any(),
            }}
        </section>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// POSTs `fields` as a form to a server function and reads its JSON answer: a string
    /// or a list of strings. None for any failure (the page says it did not work).
    pub async fn post(path: &str, fields: &[(&str, String)]) -> Option<Vec<String>> {
        let params = web_sys::UrlSearchParams::new().ok()?;
        for (name, value) in fields {
            params.append(name, value);
        }
        let headers = web_sys::Headers::new().ok()?;
        headers
            .set("Content-Type", "application/x-www-form-urlencoded")
            .ok()?;
        headers.set("Accept", "application/json").ok()?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from(params.to_string()));
        let answer = JsFuture::from(window().fetch_with_str_and_init(path, &init))
            .await
            .ok()?;
        let response: web_sys::Response = answer.dyn_into().ok()?;
        if !response.ok() {
            return None;
        }
        let json = JsFuture::from(response.json().ok()?).await.ok()?;
        if let Some(one) = json.as_string() {
            return Some(vec![one]);
        }
        if !js_sys::Array::is_array(&json) {
            return None;
        }
        js_sys::Array::from(&json)
            .iter()
            .map(|item| item.as_string())
            .collect()
    }
}
