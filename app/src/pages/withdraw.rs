use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;
use rollcall::domain::SignatureStatus;

use super::set_status;
use crate::server_fns::{Withdraw, WithdrawFormError, withdrawal};

fn problem_view(err: WithdrawFormError) -> AnyView {
    let unknown = matches!(err, WithdrawFormError::Unknown);
    set_status(if unknown { 404 } else { 503 });
    view! {
        <section class="notice" data-testid="withdraw-problem">
            {if unknown {
                view! {
                    <h1>"This link is not valid"</h1>
                    <p>"It may be incomplete: try copying the whole link from your receipt."</p>
                }.into_any()
            } else {
                view! {
                    <h1>"Something went wrong"</h1>
                    <p>"Your signature was not withdrawn yet: " {err.to_string()} ". Please try again in a few minutes."</p>
                }.into_any()
            }}
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
    view! {
        <Title text="Withdraw your signature · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
                                <h1>"This signature no longer counts"</h1>
                                <p>"Your signature on “" {found.campaign_title} "” was already withdrawn."</p>
                                <p><a href=format!("/c/{}", found.campaign_slug)>"Go to the campaign"</a></p>
                            </section>
                        }.into_any(),
                        Ok(found) => view! {
                            <section class="notice withdraw">
                                <h1>"Withdraw your signature"</h1>
                                <p>"Campaign: " <strong>{found.campaign_title}</strong></p>
                                <p>{format!("Signed by {} {}.", found.given_name, found.family_name)}</p>
                                <p>"Once withdrawn, your signature stops counting at once."</p>
                                <ActionForm action=withdraw>
                                    <input type="hidden" name="token" value=token/>
                                    <button type="submit" class="button-primary">"Withdraw my signature"</button>
                                </ActionForm>
                            </section>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
