//! The islands' work in the browser: following the live tally, filtering the locals
//! picker and checking fields as a member types.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use rollcall::domain::{Field, Language, SignatureInput, SignatureRequest};
use rollcall::views::TallyEvent;
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

/// Rewrites a breakdown row's cells, adding the row (before "other") if it is new.
fn upsert_row(id: &str, label: &str, cells: &[(&str, String)]) -> Option<()> {
    let doc = document();
    let row = match doc.get_element_by_id(id) {
        Some(row) => row,
        None => {
            let body = doc.get_element_by_id("breakdown-body")?;
            let row = doc.create_element("tr").ok()?;
            row.set_id(id);
            let heading = doc.create_element("th").ok()?;
            heading.set_attribute("scope", "row").ok()?;
            heading.set_text_content(Some(label));
            row.append_child(&heading).ok()?;
            for (class, _) in cells {
                let cell = doc.create_element("td").ok()?;
                cell.set_class_name(class);
                row.append_child(&cell).ok()?;
            }
            let other: Option<web_sys::Node> = doc.get_element_by_id("tally-other").map(Into::into);
            body.insert_before(&row, other.as_ref()).ok()?;
            row
        }
    };
    for (class, text) in cells {
        if let Some(cell) = row.query_selector(&format!(".{class}")).ok().flatten() {
            cell.set_text_content(Some(text));
        }
    }
    Some(())
}

/// Applies a snapshot or a delta to the page: the total, the bar, and the rows that
/// moved. A group sent with a count of zero fell out of view; a snapshot drops every
/// row it does not name.
fn apply(tally: &TallyEvent, snapshot: bool, goal: Option<u64>, language: Language) {
    use super::{format_count, goal_percent, pledge_text, share_text, signed_text, state_text};

    set_text(
        "[data-testid=tally-total]",
        &format_count(tally.total, language),
    );
    set_text(
        "#tally-noun",
        &crate::td_count!(language, tally.total, tally.confirmed_single | confirmed),
    );
    if let (Some(percent), Some(bar)) = (
        goal_percent(tally.total, goal),
        document().query_selector(".progress-bar").ok().flatten(),
    ) {
        let _ = bar.set_attribute("style", &format!("width: {percent:.1}%"));
    }
    let mut named = Vec::new();
    let shown_state = document()
        .query_selector("[data-testid=pledge-state]")
        .ok()
        .flatten()
        .and_then(|element| element.get_attribute("data-state"));
    for group in &tally.by_local {
        let row = format!("local-{}", group.local_id);
        if group.count == 0 {
            if let Some(gone) = document().get_element_by_id(&row) {
                gone.remove();
            }
            continue;
        }
        let mut cells = vec![
            (
                "signed",
                signed_text(group.count, group.member_count, language),
            ),
            ("share", share_text(group.count, group.member_count)),
        ];
        if let Some(shown) = &shown_state {
            let reached = group.reached_at.is_some();
            // A snapshot carries the state; a delta leaves it as the page shows it.
            let ended = tally
                .state
                .map_or(shown.as_str() == "not_reached", |state| {
                    state == rollcall::domain::PledgeState::NotReached
                });
            cells.push((
                "pledge",
                pledge_text(
                    group.count,
                    group.needed,
                    reached,
                    group.withdrawn_since,
                    ended,
                    language,
                ),
            ));
            if let Some(cell) = document()
                .query_selector(&format!("#{row} .pledge"))
                .ok()
                .flatten()
            {
                let _ = cell.set_attribute("data-reached", &reached.to_string());
            }
        }
        upsert_row(&row, &group.label, &cells);
        named.push(row);
    }
    for group in &tally.by_union {
        let row = format!("union-{}", group.union);
        if group.count == 0 {
            if let Some(gone) = document().get_element_by_id(&row) {
                gone.remove();
            }
            continue;
        }
        upsert_row(
            &row,
            &group.name,
            &[("signed", format_count(group.count, language))],
        );
        named.push(row);
    }
    if let Some(state) = tally.state
        && let Some(element) = document()
            .query_selector("[data-testid=pledge-state]")
            .ok()
            .flatten()
    {
        element.set_text_content(Some(state_text(state, language)));
        let _ = element.set_attribute("data-state", state.as_str());
    }
    if let Some(other) = tally.other {
        set_text("#tally-other .signed", &format_count(other, language));
    }
    if let Some(supporters) = tally.community_supporters {
        set_text(
            "#tally-supporters .signed",
            &format_count(supporters, language),
        );
    }
    if snapshot && let Some(body) = document().get_element_by_id("breakdown-body") {
        let rows = body.children();
        let stale: Vec<_> = (0..rows.length())
            .filter_map(|i| rows.item(i))
            .filter(|row| {
                let id = row.id();
                (id.starts_with("local-") || id.starts_with("union-")) && !named.contains(&id)
            })
            .collect();
        for row in stale {
            row.remove();
        }
    }
}

pub fn follow_tally(slug: &str, goal: Option<u64>, language: Language) {
    use leptos::wasm_bindgen::closure::Closure;

    let url = format!("/api/v1/campaigns/{slug}/tally/stream");
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return;
    };
    // A screen reader hears the count at most once a minute, not on every tick.
    let announced = std::cell::Cell::new(js_sys::Date::now());
    let on_event =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(data) = ev.data().as_string() else {
                return;
            };
            // The hub's own type: a renamed field fails to compile, not in a browser.
            let Ok(tally) = serde_json::from_str::<TallyEvent>(&data) else {
                return;
            };
            apply(&tally, ev.type_() == "snapshot", goal, language);
            let now = js_sys::Date::now();
            if now - announced.get() >= 60_000.0 {
                let total = tally.total;
                announced.set(now);
                let count = super::format_count(total, language);
                set_text(
                    "tally-announce",
                    &crate::td_count!(language, total, tally.announce_single | announce, count),
                );
            }
        });
    for event in ["snapshot", "delta"] {
        let _ = source.add_event_listener_with_callback(event, on_event.as_ref().unchecked_ref());
    }
    // `data-live` says the stream is connected (tests wait for it).
    let on_open = Closure::<dyn Fn()>::new(|| {
        if let Some(tally) = document().query_selector(".live-tally").ok().flatten() {
            let _ = tally.set_attribute("data-live", "true");
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    // All live as long as the page.
    on_open.forget();
    on_event.forget();
    std::mem::forget(source);
}

pub fn handlers(
    language: Language,
) -> (
    impl Fn(web_sys::Event) + Clone,
    impl Fn(FocusEvent) + Clone,
    impl Fn(web_sys::Event) + Clone,
) {
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
    let on_leave = move |ev: FocusEvent| check(ev.target(), false, language);
    // A message already shown goes as soon as the field is put right, while the
    // person types: cleared later, on leaving the field, it would move the button
    // under their finger as they press it.
    let on_input = move |ev: web_sys::Event| check(ev.target(), true, language);
    (on_filter, on_leave, on_input)
}

/// Checks the field `target` with the server's rules and shows or clears its
/// message; with `only_if_shown`, only a field already marked invalid.
fn check(target: Option<web_sys::EventTarget>, only_if_shown: bool, language: Language) {
    let Some(target) = target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
        return;
    };
    if only_if_shown && target.get_attribute("aria-invalid").as_deref() != Some("true") {
        return;
    }
    let Some(name) = target.get_attribute("name") else {
        return;
    };
    let Some(form) = element::<HtmlFormElement>("sign-form") else {
        return;
    };
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
}
