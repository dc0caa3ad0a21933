//! Pieces shared by pages: the tally, field messages, and the sign form's island.

use leptos::prelude::*;
use rollcall::domain::{
    Field, FieldErrors, Language, PledgeRule, PledgeState, PublicBreakdown, WithoutMemberCount,
    format_share_percent, share_of_membership,
};
use rollcall::i18n::td_string;
use rollcall::views::Tally;

/// A count the way the language writes it: "12,345" in English, "12.345" in Spanish
/// (and "1840" in Spanish, which groups only from five digits). On the server by ICU's
/// formatter, in the browser by its own `Intl`: both follow CLDR, so a live update
/// writes a number the way the page first did.
pub fn format_count(n: u64, language: Language) -> String {
    numbers::format(n, language)
}

/// Whether `n` takes the singular in `language` ("1 signature", "1 firma"), by CLDR's
/// plural rules: ICU's on the server, the browser's `Intl.PluralRules` in it.
pub fn is_one(n: u64, language: Language) -> bool {
    numbers::is_one(n, language)
}

/// A date ("2026-11-27", or the date of an RFC 3339 instant) as `language` writes it:
/// "Nov 27, 2026", "27 nov 2026". Anything else is shown as it came.
pub fn format_date(when: &str, language: Language) -> String {
    numbers::date(when, language, false).unwrap_or_else(|| when.to_owned())
}

/// An RFC 3339 instant with its time, in UTC: "Nov 27, 2026, 2:05 PM UTC", "27 nov 2026,
/// 14:05 UTC".
pub fn format_instant(when: &str, language: Language) -> String {
    numbers::date(when, language, true).unwrap_or_else(|| when.to_owned())
}

/// The translation under `section.singular` or `section.plural`, as `n` calls for in
/// the reader's language, with the same arguments as `td_string!`: keys come in pairs
/// such as `confirmed_single` / `confirmed`. (Not `_one` / `_other`: leptos_i18n reads
/// those as its own plurals, which would ship ICU's plural tables in the wasm.)
#[macro_export]
macro_rules! td_count {
    ($language:expr, $n:expr, $section:ident . $one:ident | $other:ident $(, $($args:tt)*)?) => {{
        let language = $language;
        if $crate::components::is_one($n, language) {
            rollcall::i18n::td_string!(language.locale(), $section.$one $(, $($args)*)?).to_string()
        } else {
            rollcall::i18n::td_string!(language.locale(), $section.$other $(, $($args)*)?).to_string()
        }
    }};
}

#[cfg(feature = "ssr")]
mod numbers {
    use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
    use icu_datetime::DateTimeFormatter;
    use icu_datetime::fieldsets::{YMD, YMDT};
    use icu_datetime::input::{Date, Time};
    use icu_decimal::{DecimalFormatter, input::Decimal};
    use icu_plurals::{PluralCategory, PluralRules};
    use leptos_i18n::Locale as _;
    use rollcall::domain::Language;

    /// ICU's formatters for one language, made once per worker thread (they are not
    /// `Sync`, and cost nothing to keep).
    struct Formatters {
        decimal: Option<DecimalFormatter>,
        plurals: Option<PluralRules>,
        date: Option<DateTimeFormatter<YMD>>,
        instant: Option<DateTimeFormatter<YMDT>>,
    }

    impl Formatters {
        fn new(language: Language) -> Self {
            let locale = language.locale().as_icu_locale();
            Self {
                decimal: DecimalFormatter::try_new(locale.into(), Default::default()).ok(),
                plurals: PluralRules::try_new_cardinal(locale.into()).ok(),
                date: DateTimeFormatter::try_new(locale.into(), YMD::medium()).ok(),
                instant: DateTimeFormatter::try_new(locale.into(), YMD::medium().with_time_hm())
                    .ok(),
            }
        }
    }

    thread_local! {
        static FORMATTERS: [Formatters; 2] = [Formatters::new(Language::En), Formatters::new(Language::Es)];
    }

    fn with<T>(language: Language, f: impl FnOnce(&Formatters) -> T) -> T {
        let index = match language {
            Language::En => 0,
            Language::Es => 1,
        };
        FORMATTERS.with(|formatters| f(&formatters[index]))
    }

    pub fn format(n: u64, language: Language) -> String {
        with(language, |f| match &f.decimal {
            Some(formatter) => formatter.format(&Decimal::from(n)).to_string(),
            None => n.to_string(),
        })
    }

    pub fn is_one(n: u64, language: Language) -> bool {
        with(language, |f| {
            f.plurals
                .as_ref()
                .map_or(n == 1, |rules| rules.category_for(n) == PluralCategory::One)
        })
    }

    pub fn date(when: &str, language: Language, with_time: bool) -> Option<String> {
        let instant = DateTime::parse_from_rfc3339(when)
            .ok()
            .map(|at| at.with_timezone(&Utc));
        let day = match instant {
            Some(at) => at.date_naive(),
            None => NaiveDate::parse_from_str(when, "%Y-%m-%d").ok()?,
        };
        let date = Date::try_new_iso(day.year(), day.month() as u8, day.day() as u8).ok()?;
        with(language, |f| match (with_time, instant) {
            (true, Some(at)) => {
                let time = Time::try_new(at.hour() as u8, at.minute() as u8, 0, 0).ok()?;
                let formatter = f.instant.as_ref()?;
                let when = icu_datetime::input::DateTime { date, time };
                Some(format!("{} UTC", formatter.format(&when)))
            }
            _ => Some(f.date.as_ref()?.format(&date).to_string()),
        })
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod numbers {
    use js_sys::{Array, Intl, Object, Reflect};
    use leptos::wasm_bindgen::JsValue;
    use rollcall::domain::Language;

    fn locales(language: Language) -> Array {
        Array::of1(&language.code().into())
    }

    pub fn format(n: u64, language: Language) -> String {
        Intl::NumberFormat::new(&locales(language), &Object::new())
            .format()
            .call1(&JsValue::NULL, &(n as f64).into())
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_else(|| n.to_string())
    }

    pub fn is_one(n: u64, language: Language) -> bool {
        Intl::PluralRules::new(&locales(language), &Object::new())
            .select(n as f64)
            .as_string()
            .map_or(n == 1, |category| category == "one")
    }

    pub fn date(when: &str, language: Language, with_time: bool) -> Option<String> {
        let at = js_sys::Date::new(&when.into());
        if at.get_time().is_nan() {
            return None;
        }
        let options = Object::new();
        let set = |key: &str, value: &str| Reflect::set(&options, &key.into(), &value.into()).ok();
        set("dateStyle", "medium")?;
        set("timeZone", "UTC")?;
        if with_time && when.contains('T') {
            set("timeStyle", "short")?;
        }
        let text = Intl::DateTimeFormat::new(&locales(language), &options)
            .format()
            .call1(&JsValue::NULL, &at)
            .ok()?
            .as_string()?;
        Some(if with_time && when.contains('T') {
            format!("{text} UTC")
        } else {
            text
        })
    }
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
mod numbers {
    pub fn format(n: u64, _: rollcall::domain::Language) -> String {
        n.to_string()
    }
}

/// "312 of 1,840" (or just "312" when the member count is unknown).
pub fn signed_text(count: u64, members: Option<u64>, language: Language) -> String {
    let count = format_count(count, language);
    match members {
        Some(members) => {
            let members = format_count(members, language);
            td_string!(language.locale(), tally.of, count, members).to_string()
        }
        None => count,
    }
}

/// "17%", or a dash when the member count is unknown.
pub fn share_text(count: u64, members: Option<u64>) -> String {
    share_of_membership(count, members)
        .map(format_share_percent)
        .unwrap_or_else(|| "–".to_owned())
}

/// A local's standing in a pledge: "Reached", "12 of 18 needed", "Not reached" once the
/// pledge has ended, or a dash when it cannot reach (no member count).
pub fn pledge_text(
    count: u64,
    needed: Option<u64>,
    reached: bool,
    withdrawn_since: u64,
    ended: bool,
    language: Language,
) -> String {
    let locale = language.locale();
    let mut text = match (reached, needed) {
        (true, _) => td_string!(locale, pledge.reached).to_owned(),
        (false, _) if ended => td_string!(locale, pledge.not_reached).to_owned(),
        (false, Some(needed)) => {
            let count = format_count(count, language);
            let needed = format_count(needed, language);
            td_string!(locale, pledge.needed, count, needed).to_string()
        }
        (false, None) => "–".to_owned(),
    };
    if reached && withdrawn_since > 0 {
        text.push_str(&withdrew_since_text(withdrawn_since, language));
    }
    text
}

/// " (2 withdrew since)", after a threshold reached.
pub fn withdrew_since_text(n: u64, language: Language) -> String {
    let count = format_count(n, language);
    crate::td_count!(
        language,
        n,
        pledge.withdrew_since_single | withdrew_since,
        n = count
    )
}

/// Where a whole pledge stands, in a sentence.
pub fn state_text(state: PledgeState, language: Language) -> &'static str {
    let locale = language.locale();
    match state {
        PledgeState::Gathering => td_string!(locale, pledge.gathering_state),
        PledgeState::Reached => td_string!(locale, pledge.reached_state),
        PledgeState::NotReached => td_string!(locale, pledge.not_reached_state),
    }
}

/// A pledge's rule in words: "Binds once 60% of its members in each of at least 3
/// locals have pledged."
pub fn rule_text(rule: &PledgeRule, language: Language) -> String {
    let locale = language.locale();
    let mut per_local = Vec::new();
    if let Some(share) = rule.share_label() {
        per_local.push(td_string!(locale, pledge.share_of_members, share).to_string());
    }
    if let Some(n) = rule.per_local_needed {
        let n = format_count(n, language);
        per_local.push(td_string!(locale, pledge.number_of_members, n).to_string());
    }
    let mut parts = Vec::new();
    if !per_local.is_empty() {
        let locals = match rule.locals_needed {
            Some(1) | None => td_string!(locale, pledge.a_local).to_owned(),
            Some(n) => td_string!(locale, pledge.each_of, n).to_string(),
        };
        let who = per_local.join(td_string!(locale, pledge.and));
        parts.push(td_string!(locale, pledge.in_locals, who, locals).to_string());
    }
    if let Some(n) = rule.total_needed {
        let n = format_count(n, language);
        parts.push(td_string!(locale, pledge.in_all, n).to_string());
    }
    let parts = parts.join(td_string!(locale, pledge.also));
    let mut text = td_string!(locale, pledge.binds, parts).to_string();
    if rule.verified_only {
        text.push_str(td_string!(locale, pledge.verified_only));
    }
    if rule.share_needed_bp.is_some() {
        text.push_str(match rule.without_member_count {
            WithoutMemberCount::CountOnly if rule.per_local_needed.is_some() => {
                td_string!(locale, pledge.count_only)
            }
            _ => td_string!(locale, pledge.not_eligible),
        });
    }
    text
}

/// `text` as a URL's query wants it: everything but RFC 3986's unreserved characters
/// percent-encoded.
pub fn query_encode(text: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const UNRESERVED_KEPT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(text, UNRESERVED_KEPT).to_string()
}

/// How far toward the goal, in percent (capped at 100).
pub fn goal_percent(total: u64, goal: Option<u64>) -> Option<f64> {
    goal.filter(|goal| *goal > 0)
        .map(|goal| (total as f64 / goal as f64 * 100.0).min(100.0))
}

/// The total, the goal and a progress bar. Its size never changes as numbers move.
#[component]
pub fn TallySummary(tally: Tally, language: Language) -> impl IntoView {
    let locale = language.locale();
    let total = format_count(tally.total, language);
    let goal = tally.goal.filter(|goal| *goal > 0);
    let percent = goal_percent(tally.total, goal);
    view! {
        <section class="tally" aria-labelledby="tally-heading">
            <h2 id="tally-heading" class="visually-hidden">{td_string!(locale, tally.heading)}</h2>
            <p class="tally-total">
                <span class="tally-number" data-testid="tally-total">{total}</span>
                <span id="tally-noun">{crate::td_count!(language, tally.total, tally.confirmed_single | confirmed)}</span>
                {goal.map(|goal| {
                    let goal = format_count(goal, language);
                    view! { <span class="tally-goal">{td_string!(locale, tally.goal, goal).to_string()}</span> }
                })}
            </p>
            {percent.map(|percent| view! {
                <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow=format!("{percent:.0}") aria-label=td_string!(locale, tally.progress)>
                    <div class="progress-bar" style=format!("width: {percent:.1}%")></div>
                </div>
            })}
            {tally.state.map(|state| view! {
                <p class="pledge-state" data-testid="pledge-state" data-state=state.as_str()>{state_text(state, language)}</p>
            })}
            // Read out politely, and at most once a minute, as the count climbs.
            <p class="visually-hidden" id="tally-announce" aria-live="polite"></p>
        </section>
    }
}

/// "Other locals (fewer than 5 signers each)".
pub fn other_label(tally: &Tally, language: Language) -> String {
    let locale = language.locale();
    let n = tally.smallest_group;
    match tally.breakdown {
        PublicBreakdown::ByUnion => td_string!(locale, tally.other_unions, n).to_string(),
        _ => td_string!(locale, tally.other_locals, n).to_string(),
    }
}

/// The public breakdown of the tally: each local (with its share of the membership) or
/// each union, as the campaign chose, with the small ones folded into one row. The
/// rows carry ids so the live tally can rewrite, add and remove them in place.
#[component]
pub fn BreakdownTable(tally: Tally, allow_community: bool, language: Language) -> impl IntoView {
    let by_local = tally.breakdown == PublicBreakdown::ByLocal;
    let mut locals = tally.by_local.clone();
    locals.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    let mut unions = tally.by_union.clone();
    unions.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    let locale = language.locale();
    let other = other_label(&tally, language);
    let pledge = by_local && tally.state.is_some();
    let ended = tally.state == Some(PledgeState::NotReached);
    (tally.breakdown != PublicBreakdown::TotalOnly).then(|| {
        view! {
            <table class="breakdown-table" id="breakdown" data-kind=if by_local { "local" } else { "union" }>
                <caption>{if by_local { td_string!(locale, tally.by_local) } else { td_string!(locale, tally.by_union) }}</caption>
                <thead>
                    <tr>
                        <th scope="col">{if by_local { td_string!(locale, tally.local) } else { td_string!(locale, tally.union) }}</th>
                        <th scope="col">{td_string!(locale, tally.signed)}</th>
                        {by_local.then(|| view! { <th scope="col">{td_string!(locale, tally.share)}</th> })}
                        {pledge.then(|| view! { <th scope="col">{td_string!(locale, tally.threshold)}</th> })}
                    </tr>
                </thead>
                <tbody id="breakdown-body">
                    {locals.into_iter().map(|c| view! {
                        <tr id=format!("local-{}", c.local_id)>
                            <th scope="row">{c.label}</th>
                            <td class="signed">{signed_text(c.count, c.member_count, language)}</td>
                            <td class="share">{share_text(c.count, c.member_count)}</td>
                            {pledge.then(|| view! {
                                <td class="pledge" data-reached=c.reached_at.is_some().to_string()>
                                    {pledge_text(c.count, c.needed, c.reached_at.is_some(), c.withdrawn_since, ended, language)}
                                </td>
                            })}
                        </tr>
                    }).collect_view()}
                    {unions.into_iter().map(|c| view! {
                        <tr id=format!("union-{}", c.union)>
                            <th scope="row">{c.name}</th>
                            <td class="signed">{format_count(c.count, language)}</td>
                        </tr>
                    }).collect_view()}
                    <tr id="tally-other">
                        <th scope="row">{other}</th>
                        <td class="signed">{format_count(tally.other, language)}</td>
                        {by_local.then(|| view! { <td>"–"</td> })}
                        {pledge.then(|| view! { <td>"–"</td> })}
                    </tr>
                    {allow_community.then(|| view! {
                        <tr id="tally-supporters">
                            <th scope="row">{td_string!(locale, tally.community)}</th>
                            <td class="signed">{format_count(tally.community_supporters, language)}</td>
                            {by_local.then(|| view! { <td>"–"</td> })}
                            {pledge.then(|| view! { <td>"–"</td> })}
                        </tr>
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
pub fn SignFormHelper(language: Language, children: Children) -> impl IntoView {
    let locale = language.locale();
    #[cfg(feature = "hydrate")]
    let (on_filter, on_leave, on_input) = browser::handlers(language);
    #[cfg(not(feature = "hydrate"))]
    let (on_filter, on_leave, on_input) = (|_| {}, |_| {}, |_| {});
    // Effects run only in the browser: `data-ready` tells tests the island is live.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <div class="local-filter" data-ready=move || ready.get().then_some("true")>
            <label for="local-filter">{td_string!(locale, sign.find_local)}</label>
            <input id="local-filter" type="search" autocomplete="off"
                placeholder=td_string!(locale, sign.find_local_placeholder) on:input=on_filter/>
        </div>
        <div on:focusout=on_leave on:input=on_input>{children()}</div>
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

    fn text_of(value: &leptos::wasm_bindgen::JsValue, key: &str) -> Option<String> {
        js_sys::Reflect::get(value, &key.into()).ok()?.as_string()
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
                let other: Option<web_sys::Node> =
                    doc.get_element_by_id("tally-other").map(Into::into);
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
    fn apply(
        tally: &leptos::wasm_bindgen::JsValue,
        snapshot: bool,
        goal: Option<u64>,
        language: Language,
    ) {
        use super::{format_count, goal_percent, pledge_text, share_text, signed_text, state_text};

        if let Some(total) = number(tally, "total") {
            set_text("[data-testid=tally-total]", &format_count(total, language));
            set_text(
                "#tally-noun",
                &crate::td_count!(language, total, tally.confirmed_single | confirmed),
            );
            if let (Some(percent), Some(bar)) = (
                goal_percent(total, goal),
                document().query_selector(".progress-bar").ok().flatten(),
            ) {
                let _ = bar.set_attribute("style", &format!("width: {percent:.1}%"));
            }
        }
        let mut named = Vec::new();
        let groups = |key: &str| {
            js_sys::Reflect::get(tally, &key.into())
                .map(|list| js_sys::Array::from(&list).iter().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        for group in groups("by_local") {
            let (Some(id), Some(count)) = (number(&group, "local_id"), number(&group, "count"))
            else {
                continue;
            };
            let row = format!("local-{id}");
            if count == 0 {
                if let Some(gone) = document().get_element_by_id(&row) {
                    gone.remove();
                }
                continue;
            }
            let members = number(&group, "member_count");
            let label = text_of(&group, "label").unwrap_or_default();
            let mut cells = vec![
                ("signed", signed_text(count, members, language)),
                ("share", share_text(count, members)),
            ];
            if let Some(state) = document()
                .query_selector("[data-testid=pledge-state]")
                .ok()
                .flatten()
                && let Some(shown) = state.get_attribute("data-state")
            {
                let reached = text_of(&group, "reached_at").is_some();
                let withdrawn = number(&group, "withdrawn_since").unwrap_or(0);
                let needed = number(&group, "needed");
                // A snapshot carries the state; a delta leaves it as the page shows it.
                let ended = text_of(tally, "state").unwrap_or(shown) == "not_reached";
                cells.push((
                    "pledge",
                    pledge_text(count, needed, reached, withdrawn, ended, language),
                ));
                if let Some(cell) = document()
                    .query_selector(&format!("#{row} .pledge"))
                    .ok()
                    .flatten()
                {
                    let _ = cell.set_attribute("data-reached", &reached.to_string());
                }
            }
            upsert_row(&row, &label, &cells);
            named.push(row);
        }
        for group in groups("by_union") {
            let (Some(union), Some(count)) = (text_of(&group, "union"), number(&group, "count"))
            else {
                continue;
            };
            let row = format!("union-{union}");
            if count == 0 {
                if let Some(gone) = document().get_element_by_id(&row) {
                    gone.remove();
                }
                continue;
            }
            let name = text_of(&group, "name").unwrap_or_default();
            upsert_row(&row, &name, &[("signed", format_count(count, language))]);
            named.push(row);
        }
        if let Some(word) = text_of(tally, "state")
            && let Some(state) = rollcall::domain::PledgeState::parse(&word)
            && let Some(element) = document()
                .query_selector("[data-testid=pledge-state]")
                .ok()
                .flatten()
        {
            element.set_text_content(Some(state_text(state, language)));
            let _ = element.set_attribute("data-state", state.as_str());
        }
        if let Some(other) = number(tally, "other") {
            set_text("#tally-other .signed", &format_count(other, language));
        }
        if let Some(supporters) = number(tally, "community_supporters") {
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
                let Ok(tally) = js_sys::JSON::parse(&data) else {
                    return;
                };
                apply(&tally, ev.type_() == "snapshot", goal, language);
                let now = js_sys::Date::now();
                if now - announced.get() >= 60_000.0
                    && let Some(total) = number(&tally, "total")
                {
                    announced.set(now);
                    let count = super::format_count(total, language);
                    set_text(
                        "tally-announce",
                        &crate::td_count!(language, total, tally.announce_single | announce, count),
                    );
                }
            });
        for event in ["snapshot", "delta"] {
            let _ =
                source.add_event_listener_with_callback(event, on_event.as_ref().unchecked_ref());
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
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn counts_are_written_the_way_each_language_writes_them() {
        assert_eq!(format_count(12_345, Language::En), "12,345");
        assert_eq!(format_count(12_345, Language::Es), "12.345");
        // Spanish groups only from five digits, as the browser's Intl does too.
        assert_eq!(format_count(1_840, Language::Es), "1840");
        assert_eq!(format_count(1_840, Language::En), "1,840");
        assert_eq!(signed_text(312, Some(1_840), Language::Es), "312 de 1840");
    }

    #[test]
    fn a_count_of_one_takes_the_singular() {
        assert!(is_one(1, Language::En) && is_one(1, Language::Es));
        assert!(!is_one(0, Language::En) && !is_one(2, Language::Es));
        let total =
            |n: u64, language| crate::td_count!(language, n, tally.confirmed_single | confirmed);
        assert_eq!(total(1, Language::Es), " firma confirmada");
        assert_eq!(total(2, Language::Es), " firmas confirmadas");
        assert_eq!(total(0, Language::En), " confirmed signatures");
        assert_eq!(
            pledge_text(5, Some(5), true, 1, false, Language::Es),
            "Alcanzado (1 se retiró después)"
        );
    }

    #[test]
    fn a_pledge_reads_in_spanish() {
        assert_eq!(
            pledge_text(3, Some(7), false, 0, false, Language::Es),
            "3 de 7 necesarios"
        );
        assert_eq!(
            pledge_text(7, Some(7), true, 2, false, Language::Es),
            "Alcanzado (2 se retiraron después)"
        );
        let rule = PledgeRule {
            share_needed_bp: Some(6000),
            locals_needed: Some(3),
            ..PledgeRule::default()
        };
        assert_eq!(
            rule_text(&rule, Language::Es),
            "Obliga cuando se hayan comprometido el 60% de sus miembros en cada uno de al menos \
             3 locales. Un local sin número de miembros no puede alcanzar el umbral."
        );
    }
}
