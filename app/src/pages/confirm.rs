use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use rollcall::i18n::td_string;

use super::set_status;
use crate::failure::Failure;
use crate::reader_language;
use crate::server_fns::{Confirm, ConfirmFormError, confirmation};

fn problem(err: &ConfirmFormError) -> (&'static str, String, Option<String>) {
    let language = reader_language();
    let locale = language.locale();
    match err {
        ConfirmFormError::Unknown => (
            td_string!(locale, confirm.invalid_heading),
            td_string!(locale, confirm.invalid).into(),
            None,
        ),
        ConfirmFormError::Closed { campaign_slug } => (
            td_string!(locale, confirm.closed_heading),
            td_string!(locale, confirm.closed).into(),
            Some(campaign_slug.clone()),
        ),
        ConfirmFormError::Failed(Failure::TooMany { retry_after_secs }) => (
            td_string!(locale, confirm.wait_heading),
            {
                let minutes = retry_after_secs.div_ceil(60);
                crate::td_count!(language, minutes, confirm.wait_single | wait, minutes)
            },
            None,
        ),
        ConfirmFormError::Failed(Failure::Unexpected | Failure::Transport(_)) => (
            td_string!(locale, confirm.failed_heading),
            td_string!(locale, confirm.failed).into(),
            None,
        ),
    }
}

fn problem_view(err: ConfirmFormError) -> AnyView {
    set_status(match err {
        ConfirmFormError::Unknown => 404,
        ConfirmFormError::Closed { .. } => 410,
        ConfirmFormError::Failed(Failure::TooMany { .. }) => 429,
        _ => 503,
    });
    let (heading, advice, slug) = problem(&err);
    let go = td_string!(reader_language().locale(), site.go_to_campaign);
    view! {
        <section class="notice" data-testid="confirm-problem">
            <h1>{heading}</h1>
            <p>{advice}</p>
            {slug.map(|slug| view! { <p><a href=format!("/c/{slug}")>{go}</a></p> })}
        </section>
    }
    .into_any()
}

/// `/v/{token}`: shows the signature and a button. Only the button's POST confirms,
/// because mail scanners follow links.
#[component]
pub fn ConfirmPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|params| params.get("token").unwrap_or_default());
    let confirm = ServerAction::<Confirm>::new();
    let view = Resource::new(move || token.clone(), confirmation);
    let locale = reader_language().locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, confirm.title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || Suspend::new(async move {
                if let Some(Err(err)) = confirm.value().get_untracked() {
                    return problem_view(err);
                }
                let token = use_params_map().with_untracked(|params| params.get("token").unwrap_or_default());
                match view.await {
                    Err(err) => problem_view(err),
                    Ok(found) => view! {
                        <section class="notice confirm">
                            <h1>{td_string!(locale, confirm.title)}</h1>
                            <p>{td_string!(locale, confirm.campaign)} " " <strong>{found.campaign_title}</strong></p>
                            <dl class="signature-details">
                                <dt>{td_string!(locale, confirm.name)}</dt><dd>{format!("{} {}", found.given_name, found.family_name)}</dd>
                                <dt>{td_string!(locale, confirm.local)}</dt><dd>{found.local.unwrap_or_else(|| td_string!(locale, confirm.community).into())}</dd>
                                <dt>{td_string!(locale, confirm.shown)}</dt><dd>{if found.show_name { td_string!(locale, confirm.yes) } else { td_string!(locale, confirm.no) }}</dd>
                            </dl>
                            <ActionForm action=confirm>
                                <input type="hidden" name="token" value=token/>
                                <button type="submit" class="button-primary">{td_string!(locale, confirm.button)}</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
