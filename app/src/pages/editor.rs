//! The campaign editor: `/account/c/{slug}/edit` for a campaign's organizers and admins,
//! `/account/new-campaign` for admins. A plain form; the saved text is previewed as the
//! campaign page renders it.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::account::{form_error, last_error, refused_view};
use crate::editor_fns::{SaveCampaign, campaign_editor};
use crate::reader_language;
use rollcall::domain::{CampaignKind, CampaignStatus, PublicBreakdown, WithoutMemberCount};
use rollcall::i18n::{Locale, td_string};
use rollcall::views::EditorText;

/// One `<option>` per state, its value the state's stored word.
fn options<T: Copy + PartialEq + Send + Sync + 'static>(
    choices: impl IntoIterator<Item = (T, &'static str)>,
    current: T,
    word: fn(T) -> &'static str,
) -> impl IntoView {
    choices
        .into_iter()
        .map(|(value, label)| view! { <option value=word(value) selected=value == current>{label}</option> })
        .collect_view()
}

/// The title, summary and body of one language's text. `language` is "en" or "es".
fn text_fields(locale: Locale, language: &'static str, text: Option<EditorText>) -> impl IntoView {
    let (name, preview_label) = if language == "es" {
        (
            td_string!(locale, editor.language_es),
            td_string!(locale, editor.preview_es),
        )
    } else {
        (
            td_string!(locale, editor.language_en),
            td_string!(locale, editor.preview_en),
        )
    };
    let text = text.unwrap_or_default();
    let id = |field: &str| format!("{language}-{field}");
    let version = (text.version > 0)
        .then(|| td_string!(locale, editor.version, version = text.version).to_string());
    let preview = (!text.preview_html.is_empty()).then(|| {
        view! {
            <details>
                <summary>{preview_label}</summary>
                <div class="statement" inner_html=text.preview_html.clone()></div>
            </details>
        }
    });
    view! {
        <fieldset>
            <legend>{name}{version}</legend>
            <label for=id("title")>{td_string!(locale, editor.text_title)}</label>
            <input id=id("title") name=format!("form[{language}_title]") value=text.title/>
            <label for=id("summary")>{td_string!(locale, editor.text_summary)}</label>
            <input id=id("summary") name=format!("form[{language}_summary]") value=text.summary/>
            <label for=id("body")>{td_string!(locale, editor.text_body)}</label>
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
    let locale = reader_language().locale();
    view! {
        <Title text=format!("{} · Rollcall", td_string!(locale, editor.page_title))/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=move || view! { <p>{td_string!(locale, site.loading)}</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let c = match details.await {
                        Ok(c) => c,
                        Err(err) => return refused_view(err),
                    };
                    let text = |language: &str| c.texts.iter().find(|t| t.language == language).cloned();
                    let (en, es) = (text("en"), text("es"));
                    let kinds = options(
                        [
                            (CampaignKind::Petition, td_string!(locale, editor.kind_petition)),
                            (CampaignKind::Pledge, td_string!(locale, editor.kind_pledge)),
                        ],
                        c.kind,
                        CampaignKind::as_str,
                    );
                    let statuses = options(
                        [
                            (CampaignStatus::Draft, td_string!(locale, editor.status_draft)),
                            (CampaignStatus::Open, td_string!(locale, editor.status_open)),
                            (CampaignStatus::Closed, td_string!(locale, editor.status_closed)),
                            (CampaignStatus::Archived, td_string!(locale, editor.status_archived)),
                        ],
                        c.status,
                        CampaignStatus::as_str,
                    );
                    let breakdowns = options(
                        [
                            (PublicBreakdown::TotalOnly, td_string!(locale, editor.breakdown_total_only)),
                            (PublicBreakdown::ByUnion, td_string!(locale, editor.breakdown_by_union)),
                            (PublicBreakdown::ByLocal, td_string!(locale, editor.breakdown_by_local)),
                        ],
                        c.public_breakdown,
                        PublicBreakdown::as_str,
                    );
                    let unions = c.unions.iter().map(|(slug, name)| format!("{slug} ({name})")).collect::<Vec<_>>().join(", ");
                    let heading = if c.is_new {
                        td_string!(locale, editor.heading_new).to_owned()
                    } else {
                        td_string!(locale, editor.heading_edit, slug = c.slug.clone()).to_string()
                    };
                    let public = (!c.is_new).then(|| view! {
                        <p><a href=format!("/c/{}", c.slug)>{td_string!(locale, editor.see_campaign)}</a></p>
                    });
                    view! {
                        <section class="account editor">
                            <h1>{heading}</h1>
                            {saved.then(|| view! { <p class="notice-ok" role="status" data-testid="saved">{td_string!(locale, editor.saved)}</p> })}
                            {public}
                            {form_error(error)}
                            <ActionForm action=save>
                                <label for="slug">{td_string!(locale, editor.slug)}</label>
                                <input id="slug" name="form[slug]" value=c.slug.clone() readonly=!c.is_new required/>
                                <label for="kind">{td_string!(locale, editor.kind)}</label>
                                <select id="kind" name="form[kind]">{kinds}</select>
                                <label for="addressee">{td_string!(locale, editor.addressee)}</label>
                                <input id="addressee" name="form[addressee]" value=c.addressee.clone() required/>
                                <label for="status">{td_string!(locale, editor.status)}</label>
                                <select id="status" name="form[status]">{statuses}</select>
                                <label for="goal">{td_string!(locale, editor.goal)}</label>
                                <input id="goal" name="form[goal]" inputmode="numeric" value=c.goal.map(|g| g.to_string()).unwrap_or_default()/>
                                <label for="opens-at">{td_string!(locale, editor.opens_at)}</label>
                                <input id="opens-at" name="form[opens_at]" type="datetime-local" value=c.opens_at.clone().unwrap_or_default()/>
                                <label for="closes-at">{td_string!(locale, editor.closes_at)}</label>
                                <input id="closes-at" name="form[closes_at]" type="datetime-local" value=c.closes_at.clone().unwrap_or_default()/>
                                <label for="sponsors">{td_string!(locale, editor.sponsors)}</label>
                                <input id="sponsors" name="form[sponsors]" value=c.sponsors.join(", ") aria-describedby="sponsors-hint"/>
                                <p class="hint" id="sponsors-hint">{td_string!(locale, editor.known_unions, unions).to_string()}</p>
                                <label for="locals">{td_string!(locale, editor.locals)}</label>
                                <textarea id="locals" name="form[locals]" rows="4">{c.locals.join("\n")}</textarea>
                                <div class="checkbox">
                                    <input id="allow-community" name="form[allow_community]" type="checkbox" value="on" checked=c.allow_community/>
                                    <label for="allow-community">{td_string!(locale, editor.allow_community)}</label>
                                </div>
                                <label for="breakdown">{td_string!(locale, editor.breakdown)}</label>
                                <select id="breakdown" name="form[public_breakdown]">{breakdowns}</select>
                                <label for="smallest">{td_string!(locale, editor.smallest_group)}</label>
                                <input id="smallest" name="form[smallest_group]" inputmode="numeric" value=c.smallest_group.to_string()/>
                                <label for="breakdown-every">{td_string!(locale, editor.breakdown_every)}</label>
                                <input id="breakdown-every" name="form[breakdown_every_minutes]" inputmode="numeric" value=c.breakdown_every_minutes.to_string() aria-describedby="breakdown-every-hint"/>
                                <p class="hint" id="breakdown-every-hint">{td_string!(locale, editor.breakdown_every_hint)}</p>
                                <label for="default-language">{td_string!(locale, editor.default_language)}</label>
                                <select id="default-language" name="form[default_language]">
                                    <option value="en" selected=c.default_language == "en">"English"</option>
                                    <option value="es" selected=c.default_language == "es">"Español"</option>
                                </select>
                                <label for="retention">{td_string!(locale, editor.retention)}</label>
                                <input id="retention" name="form[retention_days]" inputmode="numeric" value=c.retention_days.to_string() aria-describedby="retention-hint"/>
                                <p class="hint" id="retention-hint">{c.purged_at.clone().map_or_else(
                                    || td_string!(locale, editor.nothing_erased).to_owned(),
                                    |at| td_string!(locale, editor.erased_on, date = at).to_string(),
                                )}</p>
                                {pledge_fields(locale, c.pledge.clone())}
                                {text_fields(locale, "en", en)}
                                {text_fields(locale, "es", es)}
                                <button type="submit" class="button-primary">{td_string!(locale, editor.save)}</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// A pledge's threshold rule and announcements (ignored for a petition).
fn pledge_fields(locale: Locale, p: rollcall::views::PledgeForm) -> impl IntoView {
    let fallbacks = options(
        [
            (
                WithoutMemberCount::CountOnly,
                td_string!(locale, editor.count_only),
            ),
            (
                WithoutMemberCount::NotEligible,
                td_string!(locale, editor.not_eligible),
            ),
        ],
        p.without_member_count,
        WithoutMemberCount::as_str,
    );
    view! {
        <fieldset class="pledge-rule">
            <legend>{td_string!(locale, editor.pledge_legend)}</legend>
            <p class="hint">{td_string!(locale, editor.pledge_hint)}</p>
            <label for="share">{td_string!(locale, editor.share_of_members)}</label>
            <input id="share" name="form[share_of_members]" inputmode="decimal" value=p.share_of_members.clone()/>
            <label for="per-local">{td_string!(locale, editor.signers_per_local)}</label>
            <input id="per-local" name="form[signers_per_local]" inputmode="numeric" value=p.signers_per_local.clone()/>
            <label for="in-all">{td_string!(locale, editor.signers_in_all)}</label>
            <input id="in-all" name="form[signers_in_all]" inputmode="numeric" value=p.signers_in_all.clone()/>
            <label for="locals-needed">{td_string!(locale, editor.locals_needed)}</label>
            <input id="locals-needed" name="form[locals_needed]" inputmode="numeric" value=p.locals_needed.clone()/>
            <label for="fallback">{td_string!(locale, editor.without_member_count)}</label>
            <select id="fallback" name="form[without_member_count]">{fallbacks}</select>
            <div class="checkbox">
                <input id="verified-only" name="form[verified_only]" type="checkbox" value="on" checked=p.verified_only/>
                <label for="verified-only">{td_string!(locale, editor.verified_only)}</label>
            </div>
            <div class="checkbox">
                <input id="sealed" name="form[sealed_names]" type="checkbox" value="on" checked=p.sealed_names/>
                <label for="sealed">{td_string!(locale, editor.sealed_names)}</label>
            </div>
            <label for="reached-message">{td_string!(locale, editor.reached_message)}</label>
            <textarea id="reached-message" name="form[reached_message]" rows="4">{p.reached_message.clone()}</textarea>
            <label for="unmet-message">{td_string!(locale, editor.unmet_message)}</label>
            <textarea id="unmet-message" name="form[unmet_message]" rows="4">{p.unmet_message.clone()}</textarea>
            <div class="checkbox">
                <input id="auto-release" name="form[auto_release]" type="checkbox" value="on" checked=p.auto_release/>
                <label for="auto-release">{td_string!(locale, editor.auto_release)}</label>
            </div>
        </fieldset>
    }
}
