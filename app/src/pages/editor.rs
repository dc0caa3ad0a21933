//! The campaign editor: `/account/c/{slug}/edit` for a campaign's organizers and admins,
//! `/account/new-campaign` for admins. A plain form; the saved text is previewed as the
//! campaign page renders it.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::account::{form_error, last_error, refused_view};
use crate::editor_fns::{SaveCampaign, campaign_editor};
use rollcall::views::EditorText;

fn selected(value: &str, current: &str) -> bool {
    value == current
}

fn text_fields(
    language: &'static str,
    name: &'static str,
    text: Option<EditorText>,
) -> impl IntoView {
    let text = text.unwrap_or_default();
    let id = |field: &str| format!("{language}-{field}");
    let version = (text.version > 0).then(|| format!(" (version {})", text.version));
    let preview = (!text.preview_html.is_empty()).then(|| {
        view! {
            <details>
                <summary>{format!("Preview of the saved {name} text")}</summary>
                <div class="statement" inner_html=text.preview_html.clone()></div>
            </details>
        }
    });
    view! {
        <fieldset>
            <legend>{name}{version}</legend>
            <label for=id("title")>"Title"</label>
            <input id=id("title") name=format!("form[{language}_title]") value=text.title/>
            <label for=id("summary")>"Summary"</label>
            <input id=id("summary") name=format!("form[{language}_summary]") value=text.summary/>
            <label for=id("body")>"Text (Markdown)"</label>
            <textarea id=id("body") name=format!("form[{language}_body]") rows="12">{text.body}</textarea>
            {preview}
        </fieldset>
    }
}

#[component]
pub fn CampaignEditorPage() -> impl IntoView {
    let slug = use_params_map().with_untracked(|params| params.get("slug").unwrap_or_default());
    let details = Resource::new(move || slug.clone(), campaign_editor);
    let save = ServerAction::<SaveCampaign>::new();
    let error = last_error(save);
    let saved = use_query_map().with_untracked(|q| q.get("saved").is_some());
    view! {
        <Title text="Campaign editor · Rollcall"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let c = match details.await {
                        Ok(c) => c,
                        Err(err) => return refused_view(err),
                    };
                    let text = |language: &str| c.texts.iter().find(|t| t.language == language).cloned();
                    let (en, es) = (text("en"), text("es"));
                    let statuses = ["draft", "open", "closed", "archived"].map(|s| view! {
                        <option value=s selected=selected(s, &c.status)>{s}</option>
                    });
                    let breakdowns = [("total_only", "The total only"), ("by_union", "By union"), ("by_local", "By local")]
                        .map(|(value, label)| view! {
                            <option value=value selected=selected(value, &c.public_breakdown)>{label}</option>
                        });
                    let unions = c.unions.iter().map(|(slug, name)| format!("{slug} ({name})")).collect::<Vec<_>>().join(", ");
                    let heading = if c.is_new { "New campaign".to_owned() } else { format!("Edit {}", c.slug) };
                    let public = (!c.is_new).then(|| view! {
                        <p><a href=format!("/c/{}", c.slug)>"See the campaign page"</a></p>
                    });
                    view! {
                        <section class="account editor">
                            <h1>{heading}</h1>
                            {saved.then(|| view! { <p class="notice-ok" role="status" data-testid="saved">"Saved."</p> })}
                            {public}
                            {form_error(error)}
                            <ActionForm action=save>
                                <label for="slug">"Address (a-z, 0-9 and -; fixed once made)"</label>
                                <input id="slug" name="form[slug]" value=c.slug.clone() readonly=!c.is_new required/>
                                <label for="kind">"Kind"</label>
                                <select id="kind" name="form[kind]">
                                    <option value="petition" selected=selected("petition", &c.kind)>"Petition"</option>
                                    <option value="pledge" selected=selected("pledge", &c.kind)>"Pledge"</option>
                                </select>
                                <label for="addressee">"Addressed to"</label>
                                <input id="addressee" name="form[addressee]" value=c.addressee.clone() required/>
                                <label for="status">"Status (only moves forward)"</label>
                                <select id="status" name="form[status]">{statuses}</select>
                                <label for="goal">"Goal (signatures)"</label>
                                <input id="goal" name="form[goal]" inputmode="numeric" value=c.goal.map(|g| g.to_string()).unwrap_or_default()/>
                                <label for="opens-at">"Opens (UTC)"</label>
                                <input id="opens-at" name="form[opens_at]" type="datetime-local" value=c.opens_at.clone().unwrap_or_default()/>
                                <label for="closes-at">"Closes (UTC)"</label>
                                <input id="closes-at" name="form[closes_at]" type="datetime-local" value=c.closes_at.clone().unwrap_or_default()/>
                                <label for="sponsors">"Sponsoring unions: their short names, separated by commas"</label>
                                <input id="sponsors" name="form[sponsors]" value=c.sponsors.join(", ") aria-describedby="sponsors-hint"/>
                                <p class="hint" id="sponsors-hint">{format!("Known unions: {unions}.")}</p>
                                <label for="locals">"Locals that may sign: one a line, as union/local (such as utw/local-102); leave empty for every local of the sponsoring unions"</label>
                                <textarea id="locals" name="form[locals]" rows="4">{c.locals.join("\n")}</textarea>
                                <div class="checkbox">
                                    <input id="allow-community" name="form[allow_community]" type="checkbox" value="on" checked=c.allow_community/>
                                    <label for="allow-community">"Community supporters (not members of a sponsoring union) may sign"</label>
                                </div>
                                <label for="breakdown">"What the public sees of the count"</label>
                                <select id="breakdown" name="form[public_breakdown]">{breakdowns}</select>
                                <label for="smallest">"Groups smaller than this are shown only within \"other\""</label>
                                <input id="smallest" name="form[smallest_group]" inputmode="numeric" value=c.smallest_group.to_string()/>
                                <label for="default-language">"Language shown when the reader's is missing"</label>
                                <select id="default-language" name="form[default_language]">
                                    <option value="en" selected=selected("en", &c.default_language)>"English"</option>
                                    <option value="es" selected=selected("es", &c.default_language)>"Español"</option>
                                </select>
                                <label for="retention">"Days signers' details are kept once archived (then names and addresses are erased; counts stay)"</label>
                                <input id="retention" name="form[retention_days]" inputmode="numeric" value=c.retention_days.to_string() aria-describedby="retention-hint"/>
                                <p class="hint" id="retention-hint">{c.purged_at.clone().map_or_else(
                                    || "Nothing has been erased.".to_owned(),
                                    |at| format!("Signers' details were erased on {at}."),
                                )}</p>
                                {pledge_fields(c.pledge.clone())}
                                {text_fields("en", "English", en)}
                                {text_fields("es", "Spanish", es)}
                                <button type="submit" class="button-primary">"Save"</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// A pledge's threshold rule and announcements (ignored for a petition).
fn pledge_fields(p: rollcall::views::PledgeForm) -> impl IntoView {
    let not_eligible = p.without_member_count == "not_eligible";
    view! {
        <fieldset class="pledge-rule">
            <legend>"For a pledge: when it binds"</legend>
            <p class="hint">"Every condition you fill in must hold. The rule cannot change once the pledge opens, and each local's member count is frozen then."</p>
            <label for="share">"Share of each local's members (percent)"</label>
            <input id="share" name="form[share_of_members]" inputmode="decimal" value=p.share_of_members.clone()/>
            <label for="per-local">"Pledges needed in each local"</label>
            <input id="per-local" name="form[signers_per_local]" inputmode="numeric" value=p.signers_per_local.clone()/>
            <label for="in-all">"Pledges needed in all"</label>
            <input id="in-all" name="form[signers_in_all]" inputmode="numeric" value=p.signers_in_all.clone()/>
            <label for="locals-needed">"Locals that must each reach their threshold"</label>
            <input id="locals-needed" name="form[locals_needed]" inputmode="numeric" value=p.locals_needed.clone()/>
            <label for="fallback">"A local without a member count"</label>
            <select id="fallback" name="form[without_member_count]">
                <option value="count_only" selected=!not_eligible>"is judged by the number of pledges alone"</option>
                <option value="not_eligible" selected=not_eligible>"cannot reach a threshold"</option>
            </select>
            <div class="checkbox">
                <input id="verified-only" name="form[verified_only]" type="checkbox" value="on" checked=p.verified_only/>
                <label for="verified-only">"Count only pledges the local's officers verified as members"</label>
            </div>
            <div class="checkbox">
                <input id="sealed" name="form[sealed_names]" type="checkbox" value="on" checked=p.sealed_names/>
                <label for="sealed">"Seal names: nobody, officers included, sees who pledged in a local until it reaches its threshold"</label>
            </div>
            <label for="reached-message">"Message to pledgers when a threshold is reached"</label>
            <textarea id="reached-message" name="form[reached_message]" rows="4">{p.reached_message.clone()}</textarea>
            <label for="unmet-message">"Message to pledgers if the deadline passes unmet"</label>
            <textarea id="unmet-message" name="form[unmet_message]" rows="4">{p.unmet_message.clone()}</textarea>
            <div class="checkbox">
                <input id="auto-release" name="form[auto_release]" type="checkbox" value="on" checked=p.auto_release/>
                <label for="auto-release">"Send these messages at once, without waiting for an organizer to release them"</label>
            </div>
        </fieldset>
    }
}
