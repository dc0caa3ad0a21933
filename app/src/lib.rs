//! Rollcall's UI: the pages, the islands that make them live in the browser, and the
//! server functions behind the forms (thin: parse, call a `rollcall` service, map its
//! error). Pages render on the server; only islands ship to the browser.

pub mod account_fns;
pub mod charts;
pub mod components;
pub mod editor_fns;
pub mod failure;
pub mod pages;
pub mod pledge_fns;
#[cfg(feature = "ssr")]
pub mod refusals;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Outlet, ParentRoute, Route, Router, Routes},
    path,
};
use rollcall::domain::Language;
use rollcall::i18n::td_string;

use pages::{
    AccountPage, CampaignDashboardPage, CampaignEditorPage, CampaignPage, CodePage, ConfirmPage,
    ConfirmedPage, EmbedPage, HomePage, InvitePage, LocalPage, LocalsAdminPage, NotFound,
    SignInPage, SignersPage, ThanksPage, TwoFactorPage, VerifyPage, WithdrawPage, WithdrawnPage,
};

/// The site's styles, sent inside every page (under 3 KB compressed).
const STYLES: &str = include_str!("../../style/main.css");

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Worked out once per request, here, for `<html lang>` and every page within.
    #[cfg(feature = "ssr")]
    let language = state::request_language();
    #[cfg(not(feature = "ssr"))]
    let language = Language::default();
    provide_context(Reader(language));
    view! {
        <!DOCTYPE html>
        <html lang=language.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // Islands hydrate when the browser is idle. A page that is never idle (an
                // embed in a busy site's iframe, a slow phone) would stay dead, so idle
                // work gets a two-second backstop, as Leptos gives its non-island script.
                <script nonce=leptos::nonce::use_nonce()>
                    "(()=>{const r=window.requestIdleCallback;if(r){window.requestIdleCallback=(c,o)=>r.call(window,c,Object.assign({timeout:2000},o))}})()"
                </script>
                <HydrationScripts options=options.clone() islands=true/>
                // The styles come with the page: a phone on a slow network draws the
                // form one round trip sooner than with a stylesheet to fetch (at 2 s a
                // trip on "Slow 3G", the difference between signing and giving up).
                <style nonce=leptos::nonce::use_nonce() inner_html=STYLES></style>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from here and the one inline
/// hydration script that carries this response's nonce; styles from the inline sheet
/// with the same nonce and from style attributes (the progress bar's width). The frame
/// rule is added by the router.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{0}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{0}'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'",
        &*nonce
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The language the reader reads the site's own words in, worked out once per request
/// by the shell (see `state::request_language`).
#[derive(Debug, Clone, Copy)]
struct Reader(Language);

/// The reader's language, for a page's own words (a campaign's text has its own).
pub fn reader_language() -> Language {
    use_context::<Reader>()
        .map(|reader| reader.0)
        .unwrap_or_default()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    {
        content_security_policy();
        state::remember_language(
            use_context::<state::AppState>().is_some_and(|s| s.secure_cookies),
        );
    }
    view! {
        <Title text="Rollcall"/>
        <Router>
            // Async: the whole page (and its status code) is ready before the first
            // byte, so it reads complete without JavaScript.
            <Routes fallback=|| view! { <SiteLayout><NotFound/></SiteLayout> }>
                <ParentRoute path=path!("") view=|| view! { <SiteLayout><Outlet/></SiteLayout> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug") view=CampaignPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug/signers") view=SignersPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug/thanks") view=ThanksPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug/confirmed") view=ConfirmedPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug/withdrawn") view=WithdrawnPage ssr=SsrMode::Async/>
                    <Route path=path!("/v/:token") view=ConfirmPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:token") view=WithdrawPage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in/code") view=CodePage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/two-factor") view=TwoFactorPage ssr=SsrMode::Async/>
                    <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async/>
                    <Route path=path!("/account/c/:slug") view=CampaignDashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/c/:slug/edit") view=CampaignEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/new-campaign") view=CampaignEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/local/:id") view=LocalPage ssr=SsrMode::Async/>
                    <Route path=path!("/local/:id/verify/:slug") view=VerifyPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/locals") view=LocalsAdminPage ssr=SsrMode::Async/>
                </ParentRoute>
                // Framed by other sites: no header, nothing but the counter.
                <Route path=path!("/embed/:slug") view=EmbedPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// The site's header around every page but the embed: the way home and the switch
/// between languages, which keeps the reader on the same page.
#[component]
fn SiteLayout(children: Children) -> impl IntoView {
    let reader = reader_language();
    let locale = reader.locale();
    // A relative `?…` link: the same page in the other language. Of the address's other
    // parameters only `before` (a place in the list of names) is kept: the rest are
    // one-off notices ("?saved=1") or a referrer's tracking, and a public page must not
    // depend on them, so every reader of it can be given the same bytes.
    let query: Vec<(std::borrow::Cow<'static, str>, String)> =
        leptos_router::hooks::use_query_map()
            .get_untracked()
            .into_iter()
            .filter(|(key, _)| key == "before")
            .collect();
    let href = move |language: Language| {
        use components::query_encode;
        let mut pairs: Vec<String> = query
            .iter()
            .map(|(key, value)| format!("{}={}", query_encode(key), query_encode(value)))
            .collect();
        pairs.push(format!("lang={}", language.code()));
        format!("?{}", pairs.join("&"))
    };
    view! {
        <a class="skip-link" href="#main">{td_string!(locale, site.skip)}</a>
        <header class="site-header">
            <a class="brand" href="/">{td_string!(locale, site.name)}</a>
            <nav class="language-links" aria-label=td_string!(locale, site.language)>
                {Language::ALL.into_iter().map(|language| {
                    let name = language_name(language);
                    if language == reader {
                        view! { <span aria-current="true" lang=language.code()>{name}</span> }.into_any()
                    } else {
                        view! { <a href=href(language) lang=language.code() hreflang=language.code()>{name}</a> }.into_any()
                    }
                }).collect_view()}
            </nav>
        </header>
        <main id="main">{children()}</main>
    }
}

/// A language's name in itself, as a switch between languages shows it.
pub fn language_name(language: Language) -> &'static str {
    match language {
        Language::En => "English",
        Language::Es => "Español",
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
