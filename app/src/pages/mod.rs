//! The pages: each renders on the server, works without JavaScript, and ships only its
//! islands to the browser.

mod account;
mod campaign;
mod confirm;
mod editor;
mod home;
pub(crate) mod secrets;
mod withdraw;

pub use account::{
    AccountPage, CampaignDashboardPage, CodePage, InvitePage, LocalPage, LocalsAdminPage,
    SignInPage, TwoFactorPage, VerifyPage,
};
pub use campaign::{
    CampaignPage, ConfirmedPage, EmbedPage, SignersPage, ThanksPage, WithdrawnPage,
};
pub use confirm::ConfirmPage;
pub use editor::CampaignEditorPage;
pub use home::HomePage;
pub use withdraw::WithdrawPage;

use leptos::prelude::*;
use rollcall::i18n::td_string;

/// Sets the HTTP status of a server-rendered page.
pub(crate) fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::OK));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    let locale = crate::reader_language().locale();
    view! {
        <h1>{td_string!(locale, site.not_found_title)}</h1>
        <p>{td_string!(locale, site.not_found)} " " <a href="/">{td_string!(locale, site.see_open_campaigns)}</a></p>
    }
}

/// Shown when the database could not be read.
#[component]
pub fn Unavailable() -> impl IntoView {
    set_status(503);
    let locale = crate::reader_language().locale();
    view! {
        <h1>{td_string!(locale, site.unavailable_title)}</h1>
        <p>{td_string!(locale, site.try_again)}</p>
    }
}
