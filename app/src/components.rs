//! Pieces shared by pages: the tally, field messages, and the sign form's island.

use leptos::prelude::*;
use rollcall::domain::{Field, FieldErrors, Language, format_share_percent, share_of_membership};
use rollcall::views::{LocalView, Tally};

/// 1840 → "1,840" (English) or "1.840" (Spanish).
pub fn format_count(n: u64, language: Language) -> String {
    let separator = match language {
        Language::En => ',',
        Language::Es => '.',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// "312 of 1,840" (or just "312" when the member count is unknown).
pub fn signed_text(count: u64, members: Option<u64>, language: Language) -> String {
    match members {
        Some(members) => format!(
            "{} of {}",
            format_count(count, language),
            format_count(members, language)
        ),
        None => format_count(count, language),
    }
}

/// "17%", or a dash when the member count is unknown.
pub fn share_text(count: u64, members: Option<u64>) -> String {
    share_of_membership(count, members)
        .map(format_share_percent)
        .unwrap_or_else(|| "–".to_owned())
}

/// How far toward the goal, in percent (capped at 100).
pub fn goal_percent(total: u64, goal: Option<u64>) -> Option<f64> {
    goal.filter(|goal| *goal > 0)
        .map(|goal| (total as f64 / goal as f64 * 100.0).min(100.0))
}

/// The total, the goal and a progress bar. Its size never changes as numbers move.
#[component]
pub fn TallySummary(tally: Tally, language: Language) -> impl IntoView {
    let total = format_count(tally.total, language);
    let goal = tally.goal.filter(|goal| *goal > 0);
    let percent = goal_percent(tally.total, goal);
    view! {
        <section class="tally" aria-labelledby="tally-heading">
            <h2 id="tally-heading" class="visually-hidden">"Signatures"</h2>
            <p class="tally-total">
                <span class="tally-number" data-testid="tally-total">{total}</span>
                " confirmed signatures"
                {goal.map(|goal| view! { <span class="tally-goal">" of a goal of " {format_count(goal, language)}</span> })}
            </p>
            {percent.map(|percent| view! {
                <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow=format!("{percent:.0}") aria-label="Progress toward the goal">
                    <div class="progress-bar" style=format!("width: {percent:.1}%")></div>
                </div>
            })}
        </section>
    }
}

/// Each local that has signed, with its share of the membership.
#[component]
pub fn LocalTable(tally: Tally, locals: Vec<LocalView>, language: Language) -> impl IntoView {
    let mut rows: Vec<_> = tally
        .by_local
        .iter()
        .filter_map(|count| {
            let local = locals.iter().find(|l| l.id == count.local_id)?;
            Some((local.id, local.label(), count.count, count.member_count))
        })
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    let supporters = tally.community_supporters;
    (!rows.is_empty() || supporters > 0).then(|| {
        view! {
            <table class="locals-table">
                <caption>"Confirmed signatures by local"</caption>
                <thead>
                    <tr><th scope="col">"Local"</th><th scope="col">"Signed"</th><th scope="col">"Share of members"</th></tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|(id, label, count, members)| view! {
                        <tr>
                            <th scope="row">{label}</th>
                            <td id=format!("local-{id}-signed")>{signed_text(count, members, language)}</td>
                            <td id=format!("local-{id}-share")>{share_text(count, members)}</td>
                        </tr>
                    }).collect_view()}
                    {(supporters > 0).then(|| view! {
                        <tr><th scope="row">"Community supporters"</th><td>{format_count(supporters, language)}</td><td>"–"</td></tr>
                    })}
                </tbody>
            </table>
        }
    })
}

/// Keeps the tally inside it moving: follows the campaign's live stream (the browser's
/// EventSource reconnects by itself) and rewrites the numbers in place, so nothing
/// shifts. Without JavaScript the page shows the count as of load.
#[island]
pub fn LiveTally(
    slug: String,
    goal: Option<u64>,
    language: Language,
    children: Children,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::follow_tally(&slug, goal, language));
    #[cfg(not(feature = "hydrate"))]
    let _ = (slug, goal, language);
    view! { <div class="live-tally">{children()}</div> }
}

/// A field's message, tied to its input by id (`aria-describedby`), filled from the
/// server's answer and, with JavaScript, as the person types.
#[component]
pub fn FieldMessage(
    field: Field,
    errors: Option<FieldErrors>,
    language: Language,
) -> impl IntoView {
    let message = errors
        .as_ref()
        .and_then(|errors| errors.get(field))
        .map(|problem| problem.message(field, language))
        .unwrap_or_default();
    view! { <p class="field-error" id=format!("{}-error", field.name()) aria-live="polite">{message}</p> }
}

/// The sign form's helper in the browser: filters the locals picker as a member types,
/// and checks each field with the same rules as the server once the person leaves it.
/// Without JavaScript the form works the same, and the server checks.
#[island]
pub fn SignFormHelper(children: Children) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    let (on_filter, on_leave) = browser::handlers();
    #[cfg(not(feature = "hydrate"))]
    let (on_filter, on_leave) = (|_| {}, |_| {});
    // Effects run only in the browser: `data-ready` tells tests the island is live.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <div class="local-filter" data-ready=move || ready.get().then_some("true")>
            <label for="local-filter">"Find your local"</label>
            <input id="local-filter" type="search" autocomplete="off"
                placeholder="Union, number or city" on:input=on_filter/>
        </div>
        <div on:focusout=on_leave>{children()}</div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::JsCast;
    use rollcall::domain::{Field, Language, SignatureInput, SignatureRequest};
    use web_sys::{
        FocusEvent, HtmlFormElement, HtmlInputElement, HtmlOptionElement, HtmlSelectElement,
    };

    fn element<T: JsCast>(id: &str) -> Option<T> {
        document().get_element_by_id(id)?.dyn_into().ok()
    }

    fn value(form: &HtmlFormElement, name: &str) -> String {
        form.get_with_name(name)
            .and_then(|el| el.dyn_into::<HtmlInputElement>().ok())
            .map(|input| input.value())
            .or_else(|| element::<HtmlSelectElement>(name).map(|s| s.value()))
            .unwrap_or_default()
    }

    fn number(value: &leptos::wasm_bindgen::JsValue, key: &str) -> Option<u64> {
        js_sys::Reflect::get(value, &key.into())
            .ok()?
            .as_f64()
            .map(|n| n as u64)
    }

    fn set_text(id_or_selector: &str, text: &str) {
        let found = if id_or_selector.starts_with('#') || id_or_selector.starts_with('[') {
            document().query_selector(id_or_selector).ok().flatten()
        } else {
            document().get_element_by_id(id_or_selector)
        };
        if let Some(element) = found {
            element.set_text_content(Some(text));
        }
    }

    pub fn follow_tally(slug: &str, goal: Option<u64>, language: Language) {
        use super::{format_count, goal_percent, share_text, signed_text};
        use leptos::wasm_bindgen::closure::Closure;

        let url = format!("/api/v1/campaigns/{slug}/tally/stream");
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_event =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let Some(data) = ev.data().as_string() else {
                    return;
                };
                let Ok(tally) = js_sys::JSON::parse(&data) else {
                    return;
                };
                if let Some(total) = number(&tally, "total") {
                    set_text("[data-testid=tally-total]", &format_count(total, language));
                    if let (Some(percent), Some(bar)) = (
                        goal_percent(total, goal),
                        document().query_selector(".progress-bar").ok().flatten(),
                    ) {
                        let _ = bar.set_attribute("style", &format!("width: {percent:.1}%"));
                    }
                }
                let Ok(by_local) = js_sys::Reflect::get(&tally, &"by_local".into()) else {
                    return;
                };
                for row in js_sys::Array::from(&by_local).iter() {
                    let (Some(id), Some(count)) = (number(&row, "local_id"), number(&row, "count"))
                    else {
                        continue;
                    };
                    let members = number(&row, "member_count");
                    set_text(
                        &format!("local-{id}-signed"),
                        &signed_text(count, members, language),
                    );
                    set_text(&format!("local-{id}-share"), &share_text(count, members));
                }
            });
        for event in ["snapshot", "delta"] {
            let _ =
                source.add_event_listener_with_callback(event, on_event.as_ref().unchecked_ref());
        }
        // Both live as long as the page.
        on_event.forget();
        std::mem::forget(source);
    }

    pub fn handlers() -> (impl Fn(web_sys::Event) + Clone, impl Fn(FocusEvent) + Clone) {
        let on_filter = |ev: web_sys::Event| {
            let query = event_target_value(&ev).to_lowercase();
            let Some(select) = element::<HtmlSelectElement>("local") else {
                return;
            };
            let options = select.options();
            for i in 0..options.length() {
                if let Some(option) = options
                    .item(i)
                    .and_then(|o| o.dyn_into::<HtmlOptionElement>().ok())
                {
                    let keep = query.is_empty()
                        || option.value().is_empty()
                        || option.value() == "community"
                        || option.text().to_lowercase().contains(&query);
                    option.set_hidden(!keep);
                }
            }
        };
        let on_leave = |ev: FocusEvent| {
            let Some(target) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            let Some(name) = target.get_attribute("name") else {
                return;
            };
            let Some(form) = element::<HtmlFormElement>("sign-form") else {
                return;
            };
            let language = Language::parse(&value(&form, "lang")).unwrap_or_default();
            let input = SignatureInput {
                given_name: value(&form, "given_name"),
                family_name: value(&form, "family_name"),
                email: value(&form, "email"),
                local: value(&form, "local"),
                employer: value(&form, "employer"),
                postal_code: value(&form, "postal_code"),
                phone: value(&form, "phone"),
                show_name: false,
                lang: language.code().to_owned(),
            };
            let errors = SignatureRequest::parse(&input).err();
            let Some(field) = Field::from_name(&name) else {
                return;
            };
            let message = errors
                .as_ref()
                .and_then(|errors| errors.get(field))
                .map(|problem| problem.message(field, language))
                .unwrap_or_default();
            if let Some(slot) = document().get_element_by_id(&format!("{}-error", field.name())) {
                slot.set_text_content(Some(&message));
            }
            let _ = target.set_attribute(
                "aria-invalid",
                if message.is_empty() { "false" } else { "true" },
            );
        };
        (on_filter, on_leave)
    }
}
