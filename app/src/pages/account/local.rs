//! `/local/{id}`: a local's dashboard for its officer.

use super::*;

/// `/local/{id}`: a local's officer keeps its member count, enters paper sheets, and
/// watches its share on every campaign it can sign.
#[component]
pub fn LocalPage() -> impl IntoView {
    use crate::account_fns::{EnterPaper, SetMemberCount, UploadPaper, local_dashboard};
    let local_id = use_params_map()
        .with_untracked(|params| params.get("id").and_then(|id| id.parse::<i64>().ok()))
        .unwrap_or(0);
    let details = Resource::new(move || local_id, local_dashboard);
    let set_count = ServerAction::<SetMemberCount>::new();
    let paper = ServerAction::<EnterPaper>::new();
    let sheet = ServerAction::<UploadPaper>::new();
    let count_error = last_error(set_count);
    let paper_problem = last_error(paper).or_else(|| last_error(sheet));
    let language = reader_language();
    let locale = language.locale();
    let entered = query_count("entered").map(|n| {
        let count = format_count(n, language);
        crate::td_count!(
            language,
            n,
            dashboard.entered_single | entered_plural,
            count
        )
    });
    let member_list = ServerAction::<crate::pledge_fns::UploadMemberList>::new();
    let list_error = last_error(member_list);
    // How many addresses the list holds; never how many pledges it matched.
    let members_report = query_count("members").map(|members| {
        let count = format_count(members, language);
        let list = crate::td_count!(
            language,
            members,
            dashboard.list_holds_single | list_holds_plural,
            count
        );
        format!("{list} {}", td_string!(locale, dashboard.list_applies))
    });
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.local_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let (count_error, paper_problem) = (count_error.clone(), paper_problem.clone());
                let entered = entered.clone();
                let (list_error, members_report) = (list_error.clone(), members_report.clone());
                Suspend::new(async move {
                    let details = match details.await {
                        Ok(details) => details,
                        Err(err) => return refused_view(err),
                    };
                    // The date field's value, as the browser reads it.
                    let today = {
                        #[cfg(feature = "ssr")]
                        { chrono::Utc::now().date_naive().to_string() }
                        #[cfg(not(feature = "ssr"))]
                        { String::new() }
                    };
                    let members = details.member_count.map_or_else(
                        || td_string!(locale, dashboard.not_set).to_owned(),
                        |n| {
                            td_string!(
                                locale,
                                dashboard.count_as_of,
                                count = format_count(n, language),
                                date = format_date(&details.member_count_as_of.clone().unwrap_or_default(), language)
                            )
                            .to_string()
                        },
                    );
                    let history = details.history.iter().map(|h| view! {
                        <tr>
                            <td class="number">{format_count(h.member_count, language)}</td>
                            <td>{format_date(&h.as_of, language)}</td>
                            <td>{h.recorded_by.clone()}</td>
                            <td>{format_instant(&h.recorded_at, language)}</td>
                        </tr>
                    }).collect_view();
                    let slugs: Vec<(String, String)> = details.campaigns.iter()
                        .filter(|c| c.campaign_status == CampaignStatus::Open)
                        .map(|c| (c.campaign_slug.clone(), c.campaign_title.clone()))
                        .collect();
                    let campaign_options = || slugs.iter().map(|(slug, title)| view! {
                        <option value=slug.clone()>{title.clone()}</option>
                    }).collect_view();
                    let (paper_options, sheet_options) = (campaign_options(), campaign_options());
                    let campaigns = details.campaigns.into_iter().map(|c| {
                        let export = format!("/api/v1/campaigns/{}/signatures.csv?local={}", c.campaign_slug, details.local_id);
                        let trend_max = c.trend.iter().map(|d| d.count).max().unwrap_or(0).max(1);
                        let trend = c.trend.iter().map(|d| view! {
                            <tr><td>{format_date(&d.day, language)}</td><td class="number">{format_count(d.count, language)}</td>
                                <td><span class="bar" style=format!("width: {}%", d.count * 100 / trend_max)></span></td></tr>
                        }).collect_view();
                        let recent = c.recent.iter().map(|r| view! {
                            <li>{format!("{} {}", r.given_name, r.family_name)}
                                {r.paper.then_some(td_string!(locale, dashboard.paper_mark))}</li>
                        }).collect_view();
                        let confirmed = crate::td_count!(language, c.confirmed, dashboard.confirmed_suffix_single | confirmed_suffix_plural);
                        view! {
                            <section class="local-campaign" data-testid=format!("progress-{}", c.campaign_slug)>
                                <h2>{c.campaign_title.clone()}</h2>
                                <p class="share">
                                    <strong data-testid="confirmed">{format_count(c.confirmed, language)}</strong>{confirmed}
                                    {c.share.clone().map(|share| view! {
                                        ", " <strong data-testid="share">{share}</strong>{td_string!(locale, dashboard.of_members)}
                                    })}
                                    {td_string!(locale, dashboard.from_paper, count = format_count(c.paper, language)).to_string()}
                                </p>
                                {c.pledge.clone().map(|standing| {
                                    let queue = format!("/local/{}/verify/{}", details.local_id, c.campaign_slug);
                                    let waiting = standing.unreviewed;
                                    let count = format_count(waiting, language);
                                    let verify = crate::td_count!(language, waiting, dashboard.verify_link_single | verify_link_plural, count);
                                    view! {
                                        <p class="standing">
                                            {td_string!(locale, dashboard.threshold_label)} " "
                                            <strong data-testid="standing">{standing_text(standing, language)}</strong>
                                        </p>
                                        <p><a href=queue>{verify}</a></p>
                                    }
                                })}
                                <details>
                                    <summary>{td_string!(locale, dashboard.last_14_days)}</summary>
                                    <table class="trend"><thead><tr>
                                        <th scope="col">{td_string!(locale, dashboard.day)}</th>
                                        <th scope="col">{td_string!(locale, dashboard.confirmed)}</th>
                                        <th scope="col"><span class="visually-hidden">{td_string!(locale, dashboard.bar)}</span></th>
                                    </tr></thead>
                                    <tbody>{trend}</tbody></table>
                                </details>
                                <h3>{td_string!(locale, dashboard.latest_signers)}</h3>
                                {c.pledge.as_ref().is_some_and(|p| p.sealed).then(|| view! {
                                    <p class="hint">{td_string!(locale, dashboard.sealed_hint)}</p>
                                })}
                                <ul class="signers">{recent}</ul>
                                <p><a href=export download>{td_string!(locale, dashboard.download_local)}</a></p>
                            </section>
                        }
                    }).collect_view();
                    view! {
                        <section class="local">
                            <h1>{details.label.clone()}</h1>
                            {entered.map(|entered| view! {
                                <p class="notice-ok" role="status" data-testid="entered">
                                    {entered}
                                </p>
                            })}
                            <h2>{td_string!(locale, dashboard.member_count)}</h2>
                            <p>{td_string!(locale, dashboard.now)} " " <strong data-testid="member-count">{members}</strong></p>
                            {form_error(count_error)}
                            <ActionForm action=set_count>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="member-count">{td_string!(locale, dashboard.members)}</label>
                                <input id="member-count" name="member_count" inputmode="numeric" required/>
                                <label for="as-of">{td_string!(locale, dashboard.as_of)}</label>
                                <input id="as-of" name="as_of" type="date" value=today required/>
                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.save_member_count)}</button>
                            </ActionForm>
                            <details>
                                <summary>{td_string!(locale, dashboard.history)}</summary>
                                <table><thead><tr>
                                    <th scope="col">{td_string!(locale, dashboard.members)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.as_of)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.recorded_by)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.when)}</th>
                                </tr></thead>
                                <tbody>{history}</tbody></table>
                            </details>
                            {campaigns}
                            <h2>{td_string!(locale, dashboard.paper_heading)}</h2>
                            <p>{td_string!(locale, dashboard.paper_hint)}</p>
                            {paper_error(paper_problem)}
                            <ActionForm action=paper>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="paper-campaign">{td_string!(locale, dashboard.campaign)}</label>
                                <select id="paper-campaign" name="slug">{paper_options}</select>
                                <label for="paper-given">{td_string!(locale, dashboard.given_name)}</label>
                                <input id="paper-given" name="given_name" required/>
                                <label for="paper-family">{td_string!(locale, dashboard.family_name)}</label>
                                <input id="paper-family" name="family_name" required/>
                                <label for="paper-email">{td_string!(locale, dashboard.email_if_any)}</label>
                                <input id="paper-email" name="email" type="email"/>
                                <label for="paper-postal">{td_string!(locale, dashboard.postal_code)}</label>
                                <input id="paper-postal" name="postal_code"/>
                                <label for="paper-phone">{td_string!(locale, dashboard.phone)}</label>
                                <input id="paper-phone" name="phone" type="tel"/>
                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.enter_signature)}</button>
                            </ActionForm>
                            <ActionForm action=sheet>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="sheet-campaign">{td_string!(locale, dashboard.campaign)}</label>
                                <select id="sheet-campaign" name="slug">{sheet_options}</select>
                                <label for="sheet">{td_string!(locale, dashboard.sheet_label)}</label>
                                <textarea id="sheet" name="sheet" rows="8"></textarea>
                                <button type="submit">{td_string!(locale, dashboard.enter_sheet)}</button>
                            </ActionForm>
                            <h2>{td_string!(locale, dashboard.member_list)}</h2>
                            <p>{td_string!(locale, dashboard.member_list_hint)}</p>
                            {members_report.map(|r| view! { <p class="notice-ok" role="status" data-testid="member-list">{r}</p> })}
                            {form_error(list_error)}
                            <ActionForm action=member_list>
                                <input type="hidden" name="local_id" value=details.local_id/>
                                <label for="member-list">{td_string!(locale, dashboard.member_addresses)}</label>
                                <textarea id="member-list" name="list" rows="6"></textarea>
                                <button type="submit">{td_string!(locale, dashboard.match_list)}</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}
