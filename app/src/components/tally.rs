//! The tally on a page, its breakdown table and the islands that keep it and the sign
//! form live.

use super::*;

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
