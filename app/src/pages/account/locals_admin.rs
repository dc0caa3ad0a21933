//! `/admin/locals`: the unions and locals, for admins.

use super::*;

/// `/admin/locals`: the unions and their locals, and the locals CSV import (admins).
#[component]
pub fn LocalsAdminPage() -> impl IntoView {
    use crate::account_fns::{ImportLocals, unions_overview};
    let details = Resource::new(|| (), |()| unions_overview());
    let import = ServerAction::<ImportLocals>::new();
    let error = last_error(import);
    let language = reader_language();
    let locale = language.locale();
    let report = query_count("created").map(|created| {
        let count = |name: &str| format_count(query_count(name).unwrap_or_default(), language);
        td_string!(
            locale,
            dashboard.imported,
            unions = count("unions"),
            created = format_count(created, language),
            updated = count("updated")
        )
        .to_string()
    });
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.unions_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let (error, report) = (error.clone(), report.clone());
                Suspend::new(async move {
                    let unions = match details.await {
                        Ok(unions) => unions,
                        Err(err) => return refused_view(err),
                    };
                    let rows = unions.into_iter().map(|u| view! {
                        <tr><th scope="row">{u.name}</th><td>{u.slug}</td>
                            <td class="number">{format_count(u.locals, language)}</td>
                            <td class="number">{format_count(u.members, language)}</td></tr>
                    }).collect_view();
                    view! {
                        <section class="account">
                            <h1>{td_string!(locale, dashboard.unions_title)}</h1>
                            {report.map(|r| view! { <p class="notice-ok" role="status" data-testid="imported">{r}</p> })}
                            <table class="breakdown">
                                <thead><tr>
                                    <th scope="col">{td_string!(locale, dashboard.union)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.short_name)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.locals)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.members)}</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <h2>{td_string!(locale, dashboard.import_heading)}</h2>
                            <p>{td_string!(locale, dashboard.import_hint)}</p>
                            {form_error(error)}
                            <ActionForm action=import>
                                // The file's columns, named as the file names them.
                                <label for="locals-sheet">"union_slug,union_name,union_short_name,local,city,region,member_count,member_count_as_of"</label>
                                <textarea id="locals-sheet" name="sheet" rows="10"></textarea>
                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.import)}</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}
