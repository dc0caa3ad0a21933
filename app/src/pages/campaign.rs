use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;
use rollcall::domain::{Field, FieldErrors, Language};
use rollcall::views::CampaignDetail;

use super::{NotFound, Unavailable};
use crate::charts::{ByLocalChart, OverTimeChart};
use crate::components::{BreakdownTable, FieldMessage, LiveTally, SignFormHelper, TallySummary};
use crate::server_fns::{Sign, SignFormError, campaign, names};

pub(crate) fn slug_param() -> String {
    use_params_map().with_untracked(|params| params.get("slug").unwrap_or_default())
}

/// Loads the campaign named in the URL and renders `page` with it, or "not found".
pub(crate) fn with_campaign<V: IntoView + 'static>(
    page: impl Fn(CampaignDetail) -> V + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let slug = slug_param();
    let detail = Resource::new(move || slug.clone(), campaign);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
        let language = c.language;
        let live_tally = c.tally.clone();
        view! {
            <Title text=format!("{} · Rollcall", c.title)/>
            <ShareMeta campaign=c.clone()/>
            <article class="campaign">
                <header class="campaign-header">
                    {c.is_demo.then(|| view! { <p class="demo-badge">"Demo campaign: not a real petition"</p> })}
                    <h1>{c.title.clone()}</h1>
                    <p class="addressee">"To: " {c.addressee.clone()}</p>
                    <p class="summary">{c.summary.clone()}</p>
                    <LanguageLinks slug=c.slug.clone() current=language available=c.languages.clone()/>
                </header>
                <LiveTally slug=c.slug.clone() goal=c.goal language>
                    <TallySummary tally=live_tally language/>
                </LiveTally>
                <div class="campaign-body" inner_html=c.body_html.clone()></div>
                <section class="sponsors" aria-labelledby="sponsors-heading">
                    <h2 id="sponsors-heading">"Sponsoring unions"</h2>
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
    let language = c.language;
    view! {
        <section class="progress-detail" aria-labelledby="progress-heading">
            <h2 id="progress-heading">"Who has signed"</h2>
            {c.pledge.as_ref().map(|rule| view! {
                <p class="pledge-rule" data-testid="pledge-rule">{crate::components::rule_text(rule)}</p>
            })}
            <BreakdownTable tally=c.tally.clone() allow_community=c.allow_community language/>
            <ByLocalChart tally=c.tally.clone()/>
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
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(Some(page)) = page.await else {
                    return view! { <p>"The list of names is not available."</p> }.into_any();
                };
                let slug = slug_param();
                let shown = if preview { 10 } else { page.names.len() };
                let more = preview && page.names.len() > shown;
                view! {
                    <section class="public-names" aria-labelledby="names-heading">
                        <h3 id="names-heading">"Signers who chose to show their name"</h3>
                        {if page.names.is_empty() {
                            view! { <p>"Nobody yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="names" data-testid="public-names">
                                    {page.names.into_iter().take(shown).map(|n| view! {
                                        <li><span class="name">{n.name}</span>{n.group.map(|g| view! { <span class="group">" · " {g}</span> })}</li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {more.then(|| view! { <p><a href=format!("/c/{slug}/signers")>"See all the names"</a></p> })}
                        {(!preview).then(|| page.next.map(|next| view! {
                            <p><a href=format!("/c/{slug}/signers?before={next}") rel="next">"Older names"</a></p>
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
    let snippet = format!(
        "<iframe src=\"{base}/embed/{slug}\" title=\"{}: live count\" width=\"100%\" height=\"220\" style=\"border:0\" loading=\"lazy\"></iframe>",
        title.replace('"', "&quot;")
    );
    view! {
        <details class="embed-snippet">
            <summary>"Put this counter on your union's website"</summary>
            <p>"Paste this where the counter should appear. It shows the live count and a button to sign here."</p>
            <pre><code data-testid="embed-snippet">{snippet}</code></pre>
        </details>
    }
}

/// Link previews for chat apps and social sites (Open Graph, Twitter cards), with the
/// count as the page was rendered.
#[component]
fn ShareMeta(campaign: CampaignDetail) -> impl IntoView {
    let verb = match campaign.kind {
        rollcall::domain::CampaignKind::Pledge => "pledged",
        rollcall::domain::CampaignKind::Petition => "signed",
    };
    let description = format!(
        "{} have {verb}. {}",
        crate::components::format_count(campaign.tally.total, campaign.language),
        campaign.summary
    );
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
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // Everything but RFC 3986's unreserved characters, as a query value wants.
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encode = |text: &str| utf8_percent_encode(text, COMPONENT).to_string();
    let message = format!("{title}: {url}");
    let whatsapp = format!("https://wa.me/?text={}", encode(&message));
    let sms = format!("sms:?&body={}", encode(&message));
    let email = format!(
        "mailto:?subject={}&body={}",
        encode(&title),
        encode(&message)
    );
    let qr = format!("/api/v1/campaigns/{slug}/qr.svg");
    view! {
        <section class="share" aria-labelledby="share-heading">
            <h2 id="share-heading">"Pass it on"</h2>
            <ul class="share-links" data-testid="share-links">
                <li><a href=whatsapp rel="noopener">"WhatsApp"</a></li>
                <li><a href=sms>"Text message"</a></li>
                <li><a href=email>"Email"</a></li>
                <li><a href=qr.clone() download=format!("{slug}-qr.svg")>"QR code for flyers"</a></li>
            </ul>
            <label for="share-url">"Link to this campaign"</label>
            <div class="share-copy">
                <input id="share-url" type="url" readonly value=url.clone()/>
                <CopyLink url/>
            </div>
        </section>
    }
}

/// Copies the campaign's address. Without JavaScript the address stays in its field to
/// select and copy by hand.
#[island]
pub fn CopyLink(url: String) -> impl IntoView {
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
            {move || if copied.get() { "Link copied" } else { "Copy link" }}
        </button>
    }
}

/// `/c/{slug}/signers`: every name signers chose to show, a page at a time.
#[component]
pub fn SignersPage() -> impl IntoView {
    with_campaign(|c| {
        view! {
            <Title text=format!("Signers · {} · Rollcall", c.title)/>
            <h1>{c.title.clone()}</h1>
            <PublicNames slug=c.slug.clone() preview=false/>
            <p><a href=format!("/c/{}", c.slug)>"Back to the campaign"</a></p>
        }
    })
}

/// `/embed/{slug}`: the counter for a union's own site, framed by it: the live count,
/// the progress bar, and a button that opens the campaign to sign.
#[component]
pub fn EmbedPage() -> impl IntoView {
    with_campaign(|c| {
        let language = c.language;
        view! {
            <Title text=format!("{} · live count", c.title)/>
            <div class="embed">
                <p class="embed-title">{c.title.clone()}</p>
                <LiveTally slug=c.slug.clone() goal=c.goal language>
                    <TallySummary tally=c.tally.clone() language/>
                </LiveTally>
                {c.accepting.then(|| view! {
                    <a class="button-primary" href=c.url.clone() target="_blank" rel="noopener">"Sign"</a>
                })}
            </div>
        }
    })
}

#[component]
fn LanguageLinks(slug: String, current: Language, available: Vec<Language>) -> impl IntoView {
    (available.len() > 1).then(|| {
        view! {
            <nav class="language-links" aria-label="Language">
                {available.into_iter().map(|language| {
                    let label = match language { Language::En => "English", Language::Es => "Español" };
                    if language == current {
                        view! { <span aria-current="true" lang=language.code()>{label}</span> }.into_any()
                    } else {
                        view! { <a href=format!("/c/{slug}?lang={}", language.code()) lang=language.code()>{label}</a> }.into_any()
                    }
                }).collect_view()}
            </nav>
        }
    })
}

#[component]
fn SignSection(campaign: CampaignDetail) -> impl IntoView {
    let sign = ServerAction::<Sign>::new();
    let language = campaign.language;
    let answer = sign.value().get_untracked();
    let errors: Option<FieldErrors> = match &answer {
        Some(Err(SignFormError::Invalid(errors))) => Some(errors.clone()),
        _ => None,
    };
    let general = match answer {
        Some(Err(SignFormError::Invalid(_))) => {
            Some("Please check the fields marked below.".to_owned())
        }
        Some(Err(err)) => Some(format!("Your signature was not taken: {err}.")),
        _ => None,
    };
    if !campaign.accepting {
        return view! {
            <section class="sign" id="sign">
                <h2>"This campaign is not taking signatures"</h2>
                <p>"Thank you for your interest. Signing has closed."</p>
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
                <label for=name>{label}{(!required).then_some(view! { <span class="optional">" (optional)"</span> })}</label>
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
            <h2 id="sign-heading">"Sign"</h2>
            {general.map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <ActionForm action=sign attr:id="sign-form" attr:class="sign-form">
                <input type="hidden" name="slug" value=campaign.slug.clone()/>
                <input type="hidden" name="lang" value=language.code()/>
                <input type="hidden" name="stamp" value=campaign.form_stamp.clone().unwrap_or_default()/>
                // A honeypot: hidden from people (and from screen readers), filled by scripts.
                <div class="honeypot" aria-hidden="true">
                    <label for="website">"Leave this empty"</label>
                    <input id="website" name="website" type="text" tabindex="-1" autocomplete="off"/>
                </div>
                <SignFormHelper>
                    {field(Field::GivenName, "Given name", "text", "given-name", true, errors.clone())}
                    {field(Field::FamilyName, "Family name", "text", "family-name", true, errors.clone())}
                    {field(Field::Email, "Email", "email", "email", true, errors.clone())}
                    <p class="hint">"Use a personal address, not a work one: employers can read work mail."</p>
                    <div class="field">
                        <label for="local">"Your union and local"</label>
                        <select id="local" name="local_id" required aria-describedby="local_id-error">
                            <option value="">"Choose your local"</option>
                            {sponsors.into_iter().map(|union| {
                                let options = locals.iter().filter(|l| l.union == union.slug).map(|l| {
                                    view! { <option value=l.id.to_string()>{l.label()}</option> }
                                }).collect_view();
                                view! { <optgroup label=union.name>{options}</optgroup> }
                            }).collect_view()}
                            {campaign.allow_community.then(|| view! {
                                <option value="community">"Community supporter (not a member of these unions)"</option>
                            })}
                        </select>
                        <FieldMessage field=Field::Local errors=errors.clone() language/>
                    </div>
                    {field(Field::Employer, "Employer or worksite", "text", "organization", false, errors.clone())}
                    {field(Field::PostalCode, "ZIP or postal code", "text", "postal-code", false, errors.clone())}
                    {field(Field::Phone, "Phone", "tel", "tel", false, errors.clone())}
                </SignFormHelper>
                <div class="field checkbox">
                    <input id="show_name" name="show_name" type="checkbox" value="on"/>
                    <label for="show_name">"Show my first name, last initial and local in the public list of signers"</label>
                </div>
                <p class="hint">"Who sees your name: the campaign's organizers and your local's officers. \
                    The public sees only counts, unless you tick the box above."</p>
                <button type="submit" class="button-primary">"Sign"</button>
                <p class="hint">"We will email you a link: your signature counts once you confirm it."</p>
            </ActionForm>
        </section>
    }
    .into_any()
}

/// `/c/{slug}/thanks`: where the form lands, with or without JavaScript.
#[component]
pub fn ThanksPage() -> impl IntoView {
    with_campaign(|c| {
        view! {
            <Title text="Check your email · Rollcall"/>
            <section class="notice" data-testid="thanks">
                <h1>"Check your email"</h1>
                <p>"We sent you a link to confirm your signature on “" {c.title} "”. It counts once you confirm it."</p>
                <p>"No mail after a few minutes? Look in your spam folder, or sign again to get a new link."</p>
                <p><a href=format!("/c/{}", c.slug)>"Back to the campaign"</a></p>
            </section>
        }
    })
}

/// `/c/{slug}/confirmed`: after the confirm button.
#[component]
pub fn ConfirmedPage() -> impl IntoView {
    with_campaign(|c| {
        let language = c.language;
        view! {
            <Title text="Signature confirmed · Rollcall"/>
            <section class="notice" data-testid="confirmed">
                <h1>"Your signature is confirmed"</h1>
                <p>"Thank you. Your signature on “" {c.title.clone()} "” is counted. We sent you a receipt."</p>
                <TallySummary tally=c.tally.clone() language/>
                <p><a href=format!("/c/{}", c.slug)>"Back to the campaign"</a></p>
            </section>
        }
    })
}

/// `/c/{slug}/withdrawn`: after the withdraw button.
#[component]
pub fn WithdrawnPage() -> impl IntoView {
    with_campaign(|c| {
        view! {
            <Title text="Signature withdrawn · Rollcall"/>
            <section class="notice" data-testid="withdrawn">
                <h1>"Your signature is withdrawn"</h1>
                <p>"It no longer counts toward “" {c.title.clone()} "”. You can sign again at any time."</p>
                <p><a href=format!("/c/{}", c.slug)>"Back to the campaign"</a></p>
            </section>
        }
    })
}
