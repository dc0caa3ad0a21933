use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;
use rollcall::domain::SignatureStatus;

use rollcall::i18n::td_string;

use super::set_status;
use crate::failure::Failure;
use crate::reader_language;
use crate::server_fns::{Withdraw, WithdrawFormError, withdrawal};

fn problem_view(err: WithdrawFormError) -> AnyView {
    let language = reader_language();
    let locale = language.locale();
    let (status, heading, advice) = match err {
        WithdrawFormError::Unknown => (
            404,
            td_string!(locale, confirm.invalid_heading),
            td_string!(locale, withdraw.invalid).to_owned(),
        ),
        // Told how long to wait, as the confirm page tells it.
        WithdrawFormError::Failed(Failure::TooMany { retry_after_secs }) => {
            (429, td_string!(locale, confirm.wait_heading), {
                let minutes = retry_after_secs.div_ceil(60);
                crate::td_count!(language, minutes, confirm.wait_single | wait, minutes)
            })
        }
        WithdrawFormError::Failed(Failure::Unexpected | Failure::Transport(_)) => (
            503,
            td_string!(locale, confirm.failed_heading),
            td_string!(locale, withdraw.failed).to_owned(),
        ),
    };
    set_status(status);
    view! {
        <section class="notice" data-testid="withdraw-problem">
            <h1>{heading}</h1>
            <p>{advice}</p>
        </section>
    }
    .into_any()
}

/// `/w/{token}`: the receipt's link. Shows the signature and a button; only the
/// button's POST withdraws.
#[component]
pub fn WithdrawPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|params| params.get("token").unwrap_or_default());
    let withdraw = ServerAction::<Withdraw>::new();
    let found = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        withdrawal,
    );
    let locale = reader_language().locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, withdraw.title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let token = token.clone();
                Suspend::new(async move {
                    if let Some(Err(err)) = withdraw.value().get_untracked() {
                        return problem_view(err);
                    }
                    match found.await {
                        Err(err) => problem_view(err),
                        Ok(found) if found.status != SignatureStatus::Confirmed => view! {
                            <section class="notice" data-testid="already-withdrawn">
                                <h1>{td_string!(locale, withdraw.already_heading)}</h1>
                                <p>{td_string!(locale, withdraw.already, title = found.campaign_title).to_string()}</p>
                                <p><a href=format!("/c/{}", found.campaign_slug)>{td_string!(locale, site.go_to_campaign)}</a></p>
                            </section>
                        }.into_any(),
                        Ok(found) => view! {
                            <section class="notice withdraw">
                                <h1>{td_string!(locale, withdraw.title)}</h1>
                                <p>{td_string!(locale, confirm.campaign)} " " <strong>{found.campaign_title}</strong></p>
                                <p>{td_string!(locale, withdraw.signed_by, name = format!("{} {}", found.given_name, found.family_name)).to_string()}</p>
                                <p>{td_string!(locale, withdraw.at_once)}</p>
                                <ActionForm action=withdraw>
                                    <input type="hidden" name="token" value=token/>
                                    <button type="submit" class="button-primary">{td_string!(locale, withdraw.button)}</button>
                                </ActionForm>
                            </section>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
