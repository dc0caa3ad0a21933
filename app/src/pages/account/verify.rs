//! `/local/{id}/verify/{slug}`: an officer's verification queue for a pledge.

use super::*;

/// `/local/{id}/verify/{slug}`: the local's pledges waiting for an officer's verdict.
#[component]
pub fn VerifyPage() -> impl IntoView {
    use crate::pledge_fns::{VerifyPledge, verification_queue};
    let (local_id, slug) = use_params_map().with_untracked(|params| {
        (
            params
                .get("id")
                .and_then(|id| id.parse::<i64>().ok())
                .unwrap_or(0),
            params.get("slug").unwrap_or_default(),
        )
    });
    let details = Resource::new(
        move || (slug.clone(), local_id),
        |(slug, id)| verification_queue(slug, id),
    );
    let verify = ServerAction::<VerifyPledge>::new();
    let error = last_error(verify);
    let language = reader_language();
    let locale = language.locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.verify_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let q = match details.await {
                        Ok(q) => q,
                        Err(err) => return refused_view(err),
                    };
                    let (campaign_slug, local_id) = (q.campaign_slug.clone(), q.local_id);
                    let verdicts = [
                        ("member", td_string!(locale, dashboard.member)),
                        ("not_member", td_string!(locale, dashboard.not_member)),
                    ];
                    let lines = q.lines.into_iter().map(|line| {
                        let name = format!("{} {}", line.given_name, line.family_name);
                        let forms = verdicts.map(|(verdict, label)| {
                            let (slug, id) = (campaign_slug.clone(), line.signature_id.clone());
                            let described = format!("{label}: {name}");
                            view! {
                                <ActionForm action=verify attr:class="inline">
                                    <input type="hidden" name="slug" value=slug/>
                                    <input type="hidden" name="local_id" value=local_id/>
                                    <input type="hidden" name="signature_id" value=id/>
                                    <input type="hidden" name="verdict" value=verdict/>
                                    <button type="submit" aria-label=described>{label}</button>
                                </ActionForm>
                            }
                        });
                        view! {
                            <tr data-testid="queue-line">
                                <th scope="row">{name.clone()}</th>
                                <td>{line.email}</td>
                                <td>{line.employer.unwrap_or_default()}</td>
                                <td>{format_date(&line.confirmed_at, language)}</td>
                                <td>{forms}</td>
                            </tr>
                        }
                    }).collect_view();
                    let counts = td_string!(
                        locale,
                        dashboard.verify_counts,
                        confirmed = format_count(q.confirmed, language),
                        verified = format_count(q.verified, language),
                        not_members = format_count(q.not_members, language),
                        waiting = format_count(q.unreviewed, language)
                    )
                    .to_string();
                    view! {
                        <section class="account verify">
                            <h1>{td_string!(locale, dashboard.verify_title)}</h1>
                            <p data-testid="verify-counts">{counts}</p>
                            {form_error(error)}
                            {if q.sealed {
                                view! { <p>{td_string!(locale, dashboard.verify_sealed)}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="breakdown">
                                        <thead><tr>
                                            <th scope="col">{td_string!(locale, dashboard.name)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.email)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.employer)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.confirmed_on)}</th>
                                            <th scope="col">{td_string!(locale, dashboard.verdict)}</th>
                                        </tr></thead>
                                        <tbody>{lines}</tbody>
                                    </table>
                                }.into_any()
                            }}
                            <p><a href=format!("/local/{}", q.local_id)>{td_string!(locale, dashboard.back_to_local)}</a></p>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}
