use leptos::prelude::*;
use leptos_meta::Title;

use rollcall::i18n::td_string;

use super::Unavailable;
use crate::components::format_count;
use crate::reader_language;
use crate::server_fns::open_campaigns;

/// `/`: the open campaigns.
#[component]
pub fn HomePage() -> impl IntoView {
    let language = reader_language();
    let campaigns = Resource::new(move || language, open_campaigns);
    let locale = language.locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, home.title))/>
        <h1>{td_string!(locale, home.title)}</h1>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || Suspend::new(async move {
                match campaigns.await {
                    Err(_) => view! { <Unavailable/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p>{td_string!(locale, home.none)}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="campaign-list">
                            {list.into_iter().map(|c| view! {
                                <li class="campaign-card">
                                    <h2><a href=format!("/c/{}", c.slug)>{c.title}</a></h2>
                                    {c.is_demo.then(|| view! { <p class="demo-badge">{td_string!(locale, home.demo)}</p> })}
                                    <p>{c.summary}</p>
                                    <p class="campaign-count">{crate::td_count!(language, c.total, home.count_single | count, count = format_count(c.total, language))}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
