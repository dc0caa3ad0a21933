use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;
use rollcall::domain::{Field, FieldErrors, Language};
use rollcall::i18n::td_string;
use rollcall::views::CampaignDetail;

use super::{NotFound, Unavailable};
use crate::charts::{ByLocalChart, OverTimeChart};
use crate::components::{BreakdownTable, FieldMessage, LiveTally, SignFormHelper, TallySummary};
use crate::failure::Failure;
use crate::reader_language;
use crate::server_fns::{Sign, SignFormError, campaign, names};

pub(crate) fn slug_param() -> String {
    use_params_map().with_untracked(|params| params.get("slug").unwrap_or_default())
}

/// Loads the campaign named in the URL and renders `page` with it, or "not found".
pub(crate) fn with_campaign<V: IntoView + 'static>(
    page: impl Fn(CampaignDetail) -> V + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let slug = slug_param();
    // The reader's language goes with the request, not looked up again inside it.
    let language = reader_language();
    let detail = Resource::new(
        move || (slug.clone(), language),
        |(slug, language)| campaign(slug, language),
    );
    let loading = td_string!(reader_language().locale(), site.loading);
    view! {
        <Suspense fallback=move || view! { <p>{loading}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(Some(detail)) => page(detail).into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(_) => view! { <Unavailable/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/c/{slug}`: the statement, its sponsors, the tally and the sign form.
#[component]
pub fn CampaignPage() -> impl IntoView {
    with_campaign(|c| {
        let language = reader_language();
        let locale = language.locale();
        let live_tally = c.tally.clone();
        // The campaign's own words are in the reader's language where it has them.
        let text_lang = c.language.code();
        view! {
            <Title text=format!("{} · Rollcall", c.title)/>
            <ShareMeta campaign=c.clone()/>
            <article class="campaign">
                <header class="campaign-header">
                    {c.is_demo.then(|| view! { <p class="demo-badge">{td_string!(locale, campaign.demo)}</p> })}
                    <h1 lang=text_lang>{c.title.clone()}</h1>
                    <p class="addressee">{td_string!(locale, campaign.to)} " " <span lang=text_lang>{c.addressee.clone()}</span></p>
                    <p class="summary" lang=text_lang>{c.summary.clone()}</p>
                    {(c.language != language).then(|| {
                        let name = match c.language {
                            Language::En => td_string!(locale, campaign.lang_en),
                            Language::Es => td_string!(locale, campaign.lang_es),
                        };
                        view! { <p class="text-language">{td_string!(locale, campaign.text_in, language = name).to_string()}</p> }
                    })}
                </header>
                <LiveTally slug=c.slug.clone() goal=c.goal language>
                    <TallySummary tally=live_tally language/>
                </LiveTally>
                <div class="campaign-body" lang=text_lang inner_html=c.body_html.clone()></div>
                <section class="sponsors" aria-labelledby="sponsors-heading">
                    <h2 id="sponsors-heading">{td_string!(locale, campaign.sponsors)}</h2>
                    <ul>{c.sponsors.iter().map(|u| view! { <li>{u.name.clone()}</li> }).collect_view()}</ul>
                </section>
                <SignSection campaign=c.clone()/>
                <ShareRow url=c.url.clone() title=c.title.clone() slug=c.slug.clone()/>
                {progress_detail(&c)}
                <EmbedSnippet slug=c.slug.clone() url=c.url.clone() title=c.title.clone()/>
            </article>
        }
    })
}

/// Who has signed: the breakdown, the pictures and the public names. Its own
/// (type-erased) view, so the page's type stays within the compiler's limits.
fn progress_detail(c: &CampaignDetail) -> AnyView {
    let language = reader_language();
    view! {
        <section class="progress-detail" aria-labelledby="progress-heading">
            <h2 id="progress-heading">{td_string!(language.locale(), campaign.who_signed)}</h2>
            {c.pledge.as_ref().map(|rule| view! {
                <p class="pledge-rule" data-testid="pledge-rule">{crate::components::rule_text(rule, language)}</p>
            })}
            <BreakdownTable tally=c.tally.clone() allow_community=c.allow_community language/>
            <ByLocalChart tally=c.tally.clone() language/>
            <OverTimeChart series=c.series.clone() language/>
            <PublicNames slug=c.slug.clone() preview=true/>
        </section>
    }
    .into_any()
}

/// The names of signers who chose to show them, newest first. On the campaign page a
/// first few with a link to the whole list; on `/c/{slug}/signers` a page at a time.
#[component]
fn PublicNames(slug: String, preview: bool) -> impl IntoView {
    let before = leptos_router::hooks::use_query_map()
        .with_untracked(|query| query.get("before"))
        .filter(|_| !preview);
    let page = Resource::new(
        move || (slug.clone(), before.clone()),
        |(slug, before)| names(slug, before),
    );
    let locale = reader_language().locale();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(Some(page)) = page.await else {
                    return view! { <p>{td_string!(locale, campaign.names_unavailable)}</p> }.into_any();
                };
                let slug = slug_param();
                let shown = if preview { 10 } else { page.names.len() };
                let more = preview && page.names.len() > shown;
                view! {
                    <section class="public-names" aria-labelledby="names-heading">
                        <h3 id="names-heading">{td_string!(locale, campaign.names_heading)}</h3>
                        {if page.names.is_empty() {
                            view! { <p>{td_string!(locale, campaign.nobody_yet)}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="names" data-testid="public-names">
                                    {page.names.into_iter().take(shown).map(|n| view! {
                                        <li><span class="name">{n.name}</span>{n.group.map(|g| view! { <span class="group">" · " {g}</span> })}</li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {more.then(|| view! { <p><a href=format!("/c/{slug}/signers")>{td_string!(locale, campaign.all_names)}</a></p> })}
                        {(!preview).then(|| page.next.map(|next| view! {
                            <p><a href=format!("/c/{slug}/signers?before={next}") rel="next">{td_string!(locale, campaign.older_names)}</a></p>
                        }))}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// The iframe a union's web person pastes to show the live counter on their site.
#[component]
fn EmbedSnippet(slug: String, url: String, title: String) -> impl IntoView {
    let base = url
        .strip_suffix(&format!("/c/{slug}"))
        .unwrap_or(&url)
        .to_owned();
    let locale = reader_language().locale();
    let frame_title = td_string!(
        locale,
        campaign.embed_frame_title,
        title = title.replace('"', "&quot;")
    );
    let snippet = format!(
        "<iframe src=\"{base}/embed/{slug}\" title=\"{frame_title}\" width=\"100%\" height=\"220\" style=\"border:0\" loading=\"lazy\"></iframe>"
    );
    view! {
        <details class="embed-snippet">
            <summary>{td_string!(locale, campaign.embed_summary)}</summary>
            <p>{td_string!(locale, campaign.embed_hint)}</p>
            <pre><code data-testid="embed-snippet">{snippet}</code></pre>
        </details>
    }
}

/// Link previews for chat apps and social sites (Open Graph, Twitter cards), with the
/// count as the page was rendered.
#[component]
fn ShareMeta(campaign: CampaignDetail) -> impl IntoView {
    let (total, language) = (campaign.tally.total, campaign.language);
    let count = crate::components::format_count(total, language);
    let count = match campaign.kind {
        rollcall::domain::CampaignKind::Pledge => {
            crate::td_count!(
                language,
                total,
                campaign.have_pledged_single | have_pledged,
                count
            )
        }
        rollcall::domain::CampaignKind::Petition => {
            crate::td_count!(
                language,
                total,
                campaign.have_signed_single | have_signed,
                count
            )
        }
    };
    let description = format!("{count} {}", campaign.summary);
    view! {
        <Meta name="description" content=description.clone()/>
        <Meta property="og:type" content="website"/>
        <Meta property="og:site_name" content="Rollcall"/>
        <Meta property="og:title" content=campaign.title.clone()/>
        <Meta property="og:description" content=description.clone()/>
        <Meta property="og:url" content=campaign.url.clone()/>
        <Meta property="og:locale" content=if campaign.language == Language::Es { "es_US" } else { "en_US" }/>
        <Meta name="twitter:card" content="summary"/>
        <Meta name="twitter:title" content=campaign.title/>
        <Meta name="twitter:description" content=description/>
    }
}

/// Ways to pass the campaign on, none of them a third party's script: plain links that
/// open WhatsApp, the phone's messages or mail with the text filled in, the address to
/// copy, and a QR code for printed flyers.
#[component]
fn ShareRow(url: String, title: String, slug: String) -> impl IntoView {
    let encode = crate::components::query_encode;
    let message = format!("{title}: {url}");
    let whatsapp = format!("https://wa.me/?text={}", encode(&message));
    let sms = format!("sms:?&body={}", encode(&message));
    let email = format!(
        "mailto:?subject={}&body={}",
        encode(&title),
        encode(&message)
    );
    let qr = format!("/api/v1/campaigns/{slug}/qr.svg");
    let language = reader_language();
    let locale = language.locale();
    view! {
        <section class="share" aria-labelledby="share-heading">
            <h2 id="share-heading">{td_string!(locale, campaign.share_heading)}</h2>
            <ul class="share-links" data-testid="share-links">
                <li><a href=whatsapp rel="noopener">"WhatsApp"</a></li>
                <li><a href=sms>{td_string!(locale, campaign.share_sms)}</a></li>
                <li><a href=email>{td_string!(locale, campaign.share_email)}</a></li>
                <li><a href=qr.clone() download=format!("{slug}-qr.svg")>{td_string!(locale, campaign.share_qr)}</a></li>
            </ul>
            <label for="share-url">{td_string!(locale, campaign.share_link)}</label>
            <div class="share-copy">
                <input id="share-url" type="url" readonly value=url.clone()/>
                <CopyLink url language/>
            </div>
        </section>
    }
}

/// Copies the campaign's address. Without JavaScript the address stays in its field to
/// select and copy by hand.
#[island]
pub fn CopyLink(url: String, language: Language) -> impl IntoView {
    let locale = language.locale();
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&url);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &url;
        copied.set(true);
    };
    view! {
        <button type="button" class="copy-link" on:click=copy aria-live="polite">
            {move || if copied.get() { td_string!(locale, campaign.copied) } else { td_string!(locale, campaign.copy) }}
        </button>
    }
}

/// `/c/{slug}/signers`: every name signers chose to show, a page at a time.
#[component]
pub fn SignersPage() -> impl IntoView {
    with_campaign(|c| {
        let locale = reader_language().locale();
        view! {
            <Title text=format!("{} · {} · Rollcall", td_string!(locale, campaign.signers_title), c.title)/>
            <h1>{c.title.clone()}</h1>
            <PublicNames slug=c.slug.clone() preview=false/>
            <p><a href=format!("/c/{}", c.slug)>{td_string!(locale, site.back_to_campaign)}</a></p>
        }
    })
}

/// `/embed/{slug}`: the counter for a union's own site, framed by it: the live count,
/// the progress bar, and a button that opens the campaign to sign.
#[component]
pub fn EmbedPage() -> impl IntoView {
    with_campaign(|c| {
        let language = reader_language();
        let locale = language.locale();
        view! {
            <Title text=td_string!(locale, tally.embed_title, title = c.title.clone()).to_string()/>
            <div class="embed">
                <p class="embed-title">{c.title.clone()}</p>
                <LiveTally slug=c.slug.clone() goal=c.goal language>
                    <TallySummary tally=c.tally.clone() language/>
                </LiveTally>
                {c.accepting.then(|| view! {
                    <a class="button-primary" href=c.url.clone() target="_blank" rel="noopener">{td_string!(locale, sign.button)}</a>
                })}
            </div>
        }
    })
}

#[component]
fn SignSection(campaign: CampaignDetail) -> impl IntoView {
    let sign = ServerAction::<Sign>::new();
    let language = reader_language();
    let locale = language.locale();
    let answer = sign.value().get_untracked();
    let errors: Option<FieldErrors> = match &answer {
        Some(Err(SignFormError::Invalid(errors))) => Some(errors.clone()),
        _ => None,
    };
    let general = match answer {
        Some(Err(SignFormError::Invalid(_))) => {
            Some(td_string!(locale, sign.check_fields).to_owned())
        }
        Some(Err(err)) => {
            let reason = sign_problem(&err, language);
            Some(td_string!(locale, sign.not_taken, reason).to_string())
        }
        _ => None,
    };
    if !campaign.accepting {
        return view! {
            <section class="sign" id="sign">
                <h2>{td_string!(locale, sign.closed_heading)}</h2>
                <p>{td_string!(locale, sign.closed)}</p>
            </section>
        }
        .into_any();
    }
    let field = move |id: Field,
                      label: &'static str,
                      kind: &'static str,
                      autocomplete: &'static str,
                      required: bool,
                      errors: Option<FieldErrors>| {
        let name = id.name();
        view! {
            <div class="field">
                <label for=name>{label}{(!required).then_some(view! { <span class="optional">{td_string!(locale, sign.optional)}</span> })}</label>
                <input id=name name=name type=kind autocomplete=autocomplete required=required
                    aria-describedby=format!("{name}-error")
                    aria-invalid=errors.as_ref().and_then(|e| e.get(id)).map(|_| "true")/>
                <FieldMessage field=id errors language/>
            </div>
        }
    };
    let sponsors = campaign.sponsors.clone();
    let locals = campaign.locals.clone();
    view! {
        <section class="sign" id="sign" aria-labelledby="sign-heading">
            <h2 id="sign-heading">{td_string!(locale, sign.heading)}</h2>
            {general.map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <ActionForm action=sign attr:id="sign-form" attr:class="sign-form">
                <input type="hidden" name="slug" value=campaign.slug.clone()/>
                // The signer's language, for their mails; the signature also records the exact
                // text (its language and version) it was given.
                <input type="hidden" name="lang" value=language.code()/>
                <input type="hidden" name="stamp" value=campaign.form_stamp.clone().unwrap_or_default()/>
                // A honeypot: hidden from people (and from screen readers), filled by scripts.
                <div class="honeypot" aria-hidden="true">
                    <label for="website">{td_string!(locale, sign.honeypot)}</label>
                    <input id="website" name="website" type="text" tabindex="-1" autocomplete="off"/>
                </div>
                <SignFormHelper language>
                    {field(Field::GivenName, td_string!(locale, sign.given_name), "text", "given-name", true, errors.clone())}
                    {field(Field::FamilyName, td_string!(locale, sign.family_name), "text", "family-name", true, errors.clone())}
                    {field(Field::Email, td_string!(locale, sign.email), "email", "email", true, errors.clone())}
                    <p class="hint">{td_string!(locale, sign.email_hint)}</p>
                    <div class="field">
                        <label for="local">{td_string!(locale, sign.local)}</label>
                        <select id="local" name="local_id" required aria-describedby="local_id-error">
                            <option value="">{td_string!(locale, sign.choose_local)}</option>
                            {sponsors.into_iter().map(|union| {
                                let options = locals.iter().filter(|l| l.union == union.slug).map(|l| {
                                    view! { <option value=l.id.to_string()>{l.label()}</option> }
                                }).collect_view();
                                view! { <optgroup label=union.name>{options}</optgroup> }
                            }).collect_view()}
                            {campaign.allow_community.then(|| view! {
                                <option value="community">{td_string!(locale, sign.community)}</option>
                            })}
                        </select>
                        <FieldMessage field=Field::Local errors=errors.clone() language/>
                    </div>
                    {field(Field::Employer, td_string!(locale, sign.employer), "text", "organization", false, errors.clone())}
                    {field(Field::PostalCode, td_string!(locale, sign.postal_code), "text", "postal-code", false, errors.clone())}
                    {field(Field::Phone, td_string!(locale, sign.phone), "tel", "tel", false, errors.clone())}
                </SignFormHelper>
                <div class="field checkbox">
                    <input id="show_name" name="show_name" type="checkbox" value="on"/>
                    <label for="show_name">{td_string!(locale, sign.show_name)}</label>
                </div>
                <p class="hint">{td_string!(locale, sign.who_sees)}</p>
                <button type="submit" class="button-primary">{td_string!(locale, sign.button)}</button>
                <p class="hint">{td_string!(locale, sign.mail_hint)}</p>
            </ActionForm>
        </section>
    }
    .into_any()
}

/// Why the server refused a signature, in the reader's words.
fn sign_problem(err: &SignFormError, language: Language) -> String {
    let locale = language.locale();
    match err {
        SignFormError::Invalid(_) => td_string!(locale, sign.check_fields).to_owned(),
        SignFormError::NotOpen => td_string!(locale, sign.not_open).to_owned(),
        SignFormError::UnknownCampaign => td_string!(locale, sign.unknown_campaign).to_owned(),
        SignFormError::Stale => td_string!(locale, sign.stale).to_owned(),
        SignFormError::Failed(Failure::TooMany { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60);
            crate::td_count!(language, minutes, sign.too_many_single | too_many, minutes)
        }
        SignFormError::Failed(Failure::Unexpected) => {
            td_string!(locale, sign.unexpected).to_owned()
        }
        SignFormError::Failed(Failure::Transport(_)) => {
            td_string!(locale, sign.transport).to_owned()
        }
    }
}

/// `/c/{slug}/thanks`: where the form lands, with or without JavaScript.
#[component]
pub fn ThanksPage() -> impl IntoView {
    with_campaign(|c| {
        let locale = reader_language().locale();
        view! {
            <Title text=format!("{} · Rollcall", td_string!(locale, thanks.title))/>
            <section class="notice" data-testid="thanks">
                <h1>{td_string!(locale, thanks.title)}</h1>
                <p>{td_string!(locale, thanks.sent, title = c.title.clone()).to_string()}</p>
                <p>{td_string!(locale, thanks.no_mail)}</p>
                <p><a href=format!("/c/{}", c.slug)>{td_string!(locale, site.back_to_campaign)}</a></p>
            </section>
        }
    })
}

/// `/c/{slug}/confirmed`: after the confirm button.
#[component]
pub fn ConfirmedPage() -> impl IntoView {
    with_campaign(|c| {
        let language = reader_language();
        let locale = language.locale();
        view! {
            <Title text=format!("{} · Rollcall", td_string!(locale, confirmed.title))/>
            <section class="notice" data-testid="confirmed">
                <h1>{td_string!(locale, confirmed.heading)}</h1>
                <p>{td_string!(locale, confirmed.counted, title = c.title.clone()).to_string()}</p>
                <TallySummary tally=c.tally.clone() language/>
                <p><a href=format!("/c/{}", c.slug)>{td_string!(locale, site.back_to_campaign)}</a></p>
            </section>
        }
    })
}

/// `/c/{slug}/withdrawn`: after the withdraw button.
#[component]
pub fn WithdrawnPage() -> impl IntoView {
    with_campaign(|c| {
        let locale = reader_language().locale();
        view! {
            <Title text=format!("{} · Rollcall", td_string!(locale, withdrawn.title))/>
            <section class="notice" data-testid="withdrawn">
                <h1>{td_string!(locale, withdrawn.heading)}</h1>
                <p>{td_string!(locale, withdrawn.gone, title = c.title.clone()).to_string()}</p>
                <p><a href=format!("/c/{}", c.slug)>{td_string!(locale, site.back_to_campaign)}</a></p>
            </section>
        }
    })
}
