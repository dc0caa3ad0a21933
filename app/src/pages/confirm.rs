use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use rollcall::domain::SignatureStatus;

use super::set_status;
use crate::server_fns::{Confirm, ConfirmFormError, confirmation};

fn problem(err: &ConfirmFormError) -> (&'static str, String, Option<String>) {
    match err {
        ConfirmFormError::Unknown => (
            "This link is not valid",
            "It may be incomplete (try copying the whole link from the mail) or it was withdrawn.".into(),
            None,
        ),
        ConfirmFormError::Expired { campaign_slug } => (
            "This link has expired",
            "Confirmation links work for a limited time. Sign again and we will send you a new one.".into(),
            Some(campaign_slug.clone()),
        ),
        ConfirmFormError::Closed { campaign_slug } => (
            "This campaign has closed",
            "Signatures can no longer be confirmed.".into(),
            Some(campaign_slug.clone()),
        ),
        ConfirmFormError::TooMany { retry_after_secs } => (
            "Please wait a moment",
            format!(
                "There were too many attempts from your connection. Please try again in {} minutes.",
                retry_after_secs.div_ceil(60)
            ),
            None,
        ),
        ConfirmFormError::Unexpected | ConfirmFormError::Transport(_) => (
            "Something went wrong",
            "Your signature was not confirmed yet. Please try again in a minute.".into(),
            None,
        ),
    }
}

fn problem_view(err: ConfirmFormError) -> AnyView {
    set_status(match err {
        ConfirmFormError::Unknown => 404,
        ConfirmFormError::Expired { .. } | ConfirmFormError::Closed { .. } => 410,
        ConfirmFormError::TooMany { .. } => 429,
        _ => 503,
    });
    let (heading, advice, slug) = problem(&err);
    view! {
        <section class="notice" data-testid="confirm-problem">
            <h1>{heading}</h1>
            <p>{advice}</p>
            {slug.map(|slug| view! { <p><a href=format!("/c/{slug}")>"Go to the campaign"</a></p> })}
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
    view! {
        <Title text="Confirm your signature · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                if let Some(Err(err)) = confirm.value().get_untracked() {
                    return problem_view(err);
                }
                let token = use_params_map().with_untracked(|params| params.get("token").unwrap_or_default());
                match view.await {
                    Err(err) => problem_view(err),
                    Ok(found) if found.status == SignatureStatus::Confirmed => view! {
                        <section class="notice" data-testid="already-confirmed">
                            <h1>"Already confirmed"</h1>
                            <p>"Your signature on “" {found.campaign_title} "” is confirmed and counted."</p>
                            <p><a href=format!("/c/{}", found.campaign_slug)>"Go to the campaign"</a></p>
                        </section>
                    }.into_any(),
                    Ok(found) => view! {
                        <section class="notice confirm">
                            <h1>"Confirm your signature"</h1>
                            <p>"Campaign: " <strong>{found.campaign_title}</strong></p>
                            <dl class="signature-details">
                                <dt>"Name"</dt><dd>{format!("{} {}", found.given_name, found.family_name)}</dd>
                                <dt>"Local"</dt><dd>{found.local.unwrap_or_else(|| "Community supporter".into())}</dd>
                                <dt>"Name shown publicly"</dt><dd>{if found.show_name { "Yes" } else { "No" }}</dd>
                            </dl>
                            <ActionForm action=confirm>
                                <input type="hidden" name="token" value=token/>
                                <button type="submit" class="button-primary">"Confirm my signature"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
