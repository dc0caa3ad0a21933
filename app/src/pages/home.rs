use leptos::prelude::*;
use leptos_meta::Title;

use super::Unavailable;
use crate::components::format_count;
use crate::server_fns::open_campaigns;

/// `/`: the open campaigns.
#[component]
pub fn HomePage() -> impl IntoView {
    let campaigns = Resource::new(|| (), |()| open_campaigns());
    view! {
        <Title text="Open campaigns · Rollcall"/>
        <h1>"Open campaigns"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match campaigns.await {
                    Err(_) => view! { <Unavailable/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p>"No campaign is open right now."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="campaign-list">
                            {list.into_iter().map(|c| view! {
                                <li class="campaign-card">
                                    <h2><a href=format!("/c/{}", c.slug)>{c.title}</a></h2>
                                    {c.is_demo.then(|| view! { <p class="demo-badge">"Demo campaign"</p> })}
                                    <p>{c.summary}</p>
                                    <p class="campaign-count">{format_count(c.total, c.language)} " confirmed signatures"</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
