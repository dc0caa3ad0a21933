//! `/account/c/{slug}`: a campaign's dashboard for its organizers.

use super::*;

/// `/account/c/{slug}`: a campaign by status and by local, for its organizers.
#[component]
pub fn CampaignDashboardPage() -> impl IntoView {
    use crate::account_fns::{Moderate, campaign_dashboard};
    let slug = use_params_map().with_untracked(|params| params.get("slug").unwrap_or_default());
    let details = Resource::new(move || slug.clone(), campaign_dashboard);
    let moderate = ServerAction::<Moderate>::new();
    let moderation_error = last_error(moderate);
    let moderated = query_param("moderated").is_some();
    let release = ServerAction::<crate::pledge_fns::ReleaseAnnouncement>::new();
    let release_error = last_error(release);
    let released = query_param("released").is_some();
    let decide = ServerAction::<crate::pledge_fns::DecideMemberCount>::new();
    let decide_error = last_error(decide);
    let decided = query_param("decided").is_some();
    let resolve = ServerAction::<crate::account_fns::ResolveCollision>::new();
    let resolve_error = last_error(resolve);
    let resolved = query_param("resolved").is_some();
    let language = reader_language();
    let locale = language.locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, dashboard.campaign_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let moderation_error = moderation_error.clone();
                let (release_error, decide_error) = (release_error.clone(), decide_error.clone());
                let resolve_error = resolve_error.clone();
                Suspend::new(async move {
                let details = match details.await {
                    Ok(details) => details,
                    Err(err) => return refused_view(err),
                };
                let slug = details.slug.clone();
                let moderation = details.can_moderate.then(|| view! {
                    <section aria-labelledby="moderate-heading">
                        <h2 id="moderate-heading">{td_string!(locale, dashboard.moderate_heading)}</h2>
                        <p>{td_string!(locale, dashboard.moderate_hint)}</p>
                        {moderated.then(|| view! { <p class="notice-ok" role="status" data-testid="moderated">{td_string!(locale, dashboard.done)}</p> })}
                        {form_error(moderation_error)}
                        <ActionForm action=moderate>
                            <input type="hidden" name="slug" value=slug/>
                            <label for="moderate-email">{td_string!(locale, dashboard.signer_email)}</label>
                            <input id="moderate-email" name="email" type="email" required/>
                            <label for="moderate-action">{td_string!(locale, dashboard.action)}</label>
                            <select id="moderate-action" name="action">
                                <option value="invalidate">{td_string!(locale, dashboard.invalidate)}</option>
                                <option value="restore">{td_string!(locale, dashboard.restore)}</option>
                            </select>
                            <label for="moderate-reason">{td_string!(locale, dashboard.reason)}</label>
                            <input id="moderate-reason" name="reason" required/>
                            <button type="submit" class="button-primary">{td_string!(locale, dashboard.apply)}</button>
                        </ActionForm>
                    </section>
                });
                let is_pledge = details.pledge.is_some();
                let proposals: Vec<_> = details.locals.iter().filter_map(|l| {
                    let standing = l.pledge.as_ref()?;
                    Some((l.local_id, l.label.clone(), standing.member_count, standing.proposed_member_count?))
                }).collect();
                let rows = details.locals.into_iter().map(|l| {
                    let standing = l.pledge.clone();
                    view! {
                        <tr id=format!("local-{}", l.local_id)>
                            <th scope="row">{l.label}</th>
                            <td class="number">{format_count(l.confirmed, language)}</td>
                            <td class="number">{l.member_count.map(|n| format_count(n, language)).unwrap_or_default()}</td>
                            <td class="number">{l.share.unwrap_or_default()}</td>
                            {is_pledge.then(|| view! {
                                <td class="number">{standing.as_ref().map(|s| format_count(s.verified, language)).unwrap_or_default()}</td>
                                <td data-testid=format!("standing-{}", l.local_id)>{standing.map(|s| standing_text(s, language)).unwrap_or_default()}</td>
                            })}
                        </tr>
                    }
                }).collect_view();
                let pledge = details.pledge.map(|rule| pledge_summary(&rule, details.state, details.reached_at.clone(), language));
                let proposals = (details.can_edit && !proposals.is_empty()).then(|| {
                    let slug = details.slug.clone();
                    view! {
                        <section aria-labelledby="proposals-heading">
                            <h2 id="proposals-heading">{td_string!(locale, dashboard.proposals_heading)}</h2>
                            <p>{td_string!(locale, dashboard.proposals_hint)}</p>
                            {decided.then(|| view! { <p class="notice-ok" role="status">{td_string!(locale, dashboard.done)}</p> })}
                            {form_error(decide_error.clone())}
                            <ul>{proposals.into_iter().map(|(local_id, label, frozen, proposed)| {
                                let slug = slug.clone();
                                let proposed = format_count(proposed, language);
                                let frozen = frozen.map_or_else(
                                    || td_string!(locale, dashboard.no_count).to_owned(),
                                    |n| format_count(n, language),
                                );
                                let line = td_string!(locale, dashboard.proposal, label = label.clone(), frozen, proposed = proposed.clone()).to_string();
                                view! {
                                    <li data-testid=format!("proposal-{local_id}")>
                                        {line} " "
                                        {["accept", "decline"].map(|decision| {
                                            let slug = slug.clone();
                                            let (proposed, label) = (proposed.clone(), label.clone());
                                            let (name, button) = if decision == "accept" {
                                                (td_string!(locale, dashboard.accept_for, proposed, label).to_string(), td_string!(locale, dashboard.accept))
                                            } else {
                                                (td_string!(locale, dashboard.decline_for, proposed, label).to_string(), td_string!(locale, dashboard.decline))
                                            };
                                            view! {
                                            <ActionForm action=decide attr:class="inline">
                                                <input type="hidden" name="slug" value=slug/>
                                                <input type="hidden" name="local_id" value=local_id/>
                                                <input type="hidden" name="decision" value=decision/>
                                                <button type="submit" aria-label=name>{button}</button>
                                            </ActionForm>
                                        }})}
                                    </li>
                                }
                            }).collect_view()}</ul>
                        </section>
                    }
                });
                let announcements = (!details.announcements.is_empty()).then(|| {
                    let slug = details.slug.clone();
                    view! {
                        <section aria-labelledby="announcements-heading">
                            <h2 id="announcements-heading">{td_string!(locale, dashboard.announcements_heading)}</h2>
                            {released.then(|| view! { <p class="notice-ok" role="status" data-testid="released">{td_string!(locale, dashboard.released_notice)}</p> })}
                            {form_error(release_error.clone())}
                            <ul class="announcements">{details.announcements.into_iter().map(|a| {
                                let what = if a.kind == AnnouncementKind::Unmet {
                                    td_string!(locale, dashboard.announcement_unmet)
                                } else {
                                    td_string!(locale, dashboard.announcement_reached)
                                };
                                let head = td_string!(
                                    locale,
                                    dashboard.announcement_head,
                                    what,
                                    scope = a.scope.clone().unwrap_or_else(|| {
                                        td_string!(locale, dashboard.whole_campaign).to_owned()
                                    }),
                                    date = format_date(&a.created_at, language)
                                )
                                .to_string();
                                let body = match a.released_at {
                                    Some(at) => view! {
                                        <p>
                                            {td_string!(locale, dashboard.released_on, date = format_instant(&at, language)).to_string()} " "
                                            {if a.finished { td_string!(locale, dashboard.everyone_told) } else { td_string!(locale, dashboard.sending) }}
                                        </p>
                                        <blockquote>{a.message}</blockquote>
                                    }.into_any(),
                                    None => {
                                        let field = format!("announcement-{}", a.id);
                                        let slug = slug.clone();
                                        view! {
                                            <ActionForm action=release>
                                                <input type="hidden" name="slug" value=slug/>
                                                <input type="hidden" name="announcement_id" value=a.id/>
                                                <label for=field.clone()>{td_string!(locale, dashboard.announcement_message)}</label>
                                                <textarea id=field name="message" rows="5" required>{a.message}</textarea>
                                                <button type="submit" class="button-primary">{td_string!(locale, dashboard.release)}</button>
                                            </ActionForm>
                                        }.into_any()
                                    }
                                };
                                view! { <li data-testid=format!("announcement-{}", a.id)><h3>{head}</h3>{body}</li> }
                            }).collect_view()}</ul>
                        </section>
                    }
                });
                // Only the campaign's organizers and admins get any lines here.
                let review = (!details.collisions.is_empty() || resolved).then(|| {
                    let slug = details.slug.clone();
                    view! {
                        <section aria-labelledby="review-heading" data-testid="paper-review">
                            <h2 id="review-heading">{td_string!(locale, dashboard.review_heading)}</h2>
                            <p>{td_string!(locale, dashboard.review_hint)}</p>
                            {resolved.then(|| view! { <p class="notice-ok" role="status" data-testid="resolved">{td_string!(locale, dashboard.done)}</p> })}
                            {form_error(resolve_error.clone())}
                            <ul class="review">{details.collisions.into_iter().map(|c| {
                                let field = format!("collision-{}", c.id);
                                let (testid, label_for) = (field.clone(), field.clone());
                                let slug = slug.clone();
                                let earlier = td_string!(
                                    locale,
                                    dashboard.review_earlier,
                                    local = c.earlier_local.clone(),
                                    status = match c.earlier_status {
                                        SignatureStatus::Pending => td_string!(locale, dashboard.pending),
                                        SignatureStatus::Confirmed => td_string!(locale, dashboard.confirmed),
                                        SignatureStatus::Withdrawn => td_string!(locale, dashboard.withdrawn),
                                        SignatureStatus::Invalidated => td_string!(locale, dashboard.invalidated),
                                    }
                                )
                                .to_string();
                                view! {
                                    <li data-testid=testid>
                                        <p>
                                            <strong>{format!("{} {}", c.given_name, c.family_name)}</strong>
                                            " <" {c.email} "> · " {c.local} " · " {c.entered_by} " · "
                                            {format_instant(&c.entered_at, language)}
                                        </p>
                                        <p>{earlier}{c.earlier_paper.then(|| td_string!(locale, dashboard.paper_mark))}</p>
                                        <ActionForm action=resolve>
                                            <input type="hidden" name="slug" value=slug/>
                                            <input type="hidden" name="collision_id" value=c.id/>
                                            <label for=label_for>{td_string!(locale, dashboard.action)}</label>
                                            <select id=field name="decision">
                                                <option value="remove">{td_string!(locale, dashboard.review_remove)}</option>
                                                <option value="keep">{td_string!(locale, dashboard.review_keep)}</option>
                                            </select>
                                            <button type="submit">{td_string!(locale, dashboard.apply)}</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}</ul>
                        </section>
                    }
                });
                let s = details.status;
                let count = |n: u64| format_count(n, language);
                view! {
                    <section class="campaign-dashboard account">
                        <h1>{details.title}</h1>
                        <dl class="status-counts" data-testid="status-counts">
                            <dt>{td_string!(locale, dashboard.pending)}</dt><dd>{count(s.pending)}</dd>
                            <dt>{td_string!(locale, dashboard.confirmed)}</dt><dd data-testid="status-confirmed">{count(s.confirmed)}</dd>
                            <dt>{td_string!(locale, dashboard.of_which_paper)}</dt><dd>{count(s.paper)}</dd>
                            <dt>{td_string!(locale, dashboard.withdrawn)}</dt><dd>{count(s.withdrawn)}</dd>
                            <dt>{td_string!(locale, dashboard.invalidated)}</dt><dd>{count(s.invalidated)}</dd>
                            {details.community_supporters.map(|n| view! {
                                <dt>{td_string!(locale, dashboard.community_supporters)}</dt><dd>{count(n)}</dd>
                            })}
                        </dl>
                        {pledge}
                        <table class="breakdown">
                            <caption>{td_string!(locale, dashboard.locals_by_share)}</caption>
                            <thead><tr>
                                <th scope="col">{td_string!(locale, dashboard.local)}</th>
                                <th scope="col">{td_string!(locale, dashboard.confirmed)}</th>
                                <th scope="col">{td_string!(locale, dashboard.members)}</th>
                                <th scope="col">{td_string!(locale, dashboard.share)}</th>
                                {is_pledge.then(|| view! {
                                    <th scope="col">{td_string!(locale, dashboard.verified)}</th>
                                    <th scope="col">{td_string!(locale, dashboard.threshold)}</th>
                                })}
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                        {announcements}
                        {review}
                        {proposals}
                        <p><a href=format!("/api/v1/campaigns/{}/signatures.csv", details.slug) download>{td_string!(locale, dashboard.download_campaign)}</a></p>
                        {details.can_edit.then(|| view! {
                            <p><a href=format!("/account/c/{}/edit", details.slug)>{td_string!(locale, dashboard.edit_campaign)}</a></p>
                        })}
                        {moderation}
                    </section>
                }.into_any()
            })}}
        </Suspense>
    }
}
