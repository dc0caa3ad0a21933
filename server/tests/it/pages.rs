//! Pages and operations endpoints answer as a person and a load balancer expect.

use crate::both_databases;
use crate::harness::{Backend, TestApp};

both_databases! {
    async fn the_front_page_lists_open_campaigns_and_each_has_a_page(app: TestApp) {
        let home = app.http.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.status(), 200);
        let html = home.text().await.unwrap();
        assert!(html.contains("Safe Staffing and the Freedom to Organize"));
        assert!(html.contains("/c/general-strike-pledge-demo"));

        let page = app.http.get(app.url("/c/joint-statement-demo")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.unwrap();
        assert!(html.contains("<h1 lang=\"en\">Safe Staffing and the Freedom to Organize</h1>"));
        assert!(html.contains("id=\"sign-form\""));
        assert!(html.contains("personal address, not a work one"));
        assert!(!html.contains("<script>alert"), "Markdown is sanitised");

        let spanish = app.http.get(app.url("/c/joint-statement-demo")).header("Accept-Language", "es-MX,es;q=0.9").send().await.unwrap();
        assert_eq!(spanish.status(), 200);
        let spanish = spanish.text().await.unwrap();
        assert!(spanish.contains("Personal suficiente y libertad para organizarnos"), "the campaign text follows the reader's language: {spanish}");
        assert!(!spanish.contains("Safe Staffing and the Freedom"), "and only that language is shown");

        let missing = app.http.get(app.url("/c/no-such-campaign")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        app.finish().await;
    }

    async fn health_and_readiness_answer(app: TestApp) {
        assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
        assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
        app.finish().await;
    }
}

both_databases! {
    async fn pages_are_compressed_for_clients_that_ask(app: TestApp) {
        let page = app.http.get(app.url("/c/joint-statement-demo")).header("Accept-Encoding", "gzip").send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-encoding"], "gzip");
        app.finish().await;
    }
}

/// Gives `slug` `count` confirmed signatures in a local of the demo's first union (before
/// the hub first reads the campaign), and returns that local.
async fn counted(app: &TestApp, slug: &str, count: u64) -> i64 {
    let local = app.count("SELECT id FROM locals WHERE union_id = (SELECT id FROM unions WHERE slug = 'utw') ORDER BY id LIMIT 1").await;
    app.exec(&format!(
        "INSERT INTO local_tallies (campaign_id, local_id, shard, count) \
         SELECT id, {local}, 0, {count} FROM campaigns WHERE slug = '{slug}'"
    ))
    .await;
    local
}

both_databases! {
    async fn a_campaign_page_shares_itself_without_third_party_scripts(app: TestApp) {
        let slug = "joint-statement-demo";
        counted(&app, slug, 1234).await;
        let html = app.http.get(app.url(&format!("/c/{slug}"))).send().await.unwrap().text().await.unwrap();
        let url = app.url(&format!("/c/{slug}"));
        // Link previews carry the count as the page was drawn.
        assert!(html.contains("<meta property=\"og:title\" content=\"Safe Staffing and the Freedom to Organize\""), "og:title");
        assert!(html.contains("<meta property=\"og:description\" content=\"1,234 have signed."), "the count in the preview");
        assert!(html.contains(&format!("<meta property=\"og:url\" content=\"{url}\"")));
        assert!(html.contains("<meta name=\"twitter:card\" content=\"summary\""));
        // The share row: plain links with the message encoded, no script from elsewhere.
        let encoded = url.replace(':', "%3A").replace('/', "%2F");
        assert!(html.contains(&format!("href=\"https://wa.me/?text=Safe%20Staffing%20and%20the%20Freedom%20to%20Organize%3A%20{encoded}\"")), "WhatsApp");
        assert!(html.contains("href=\"sms:?&amp;body=") || html.contains("href=\"sms:?&body="), "SMS");
        assert!(html.contains("href=\"mailto:?subject=Safe%20Staffing"), "mail");
        assert!(html.contains(&format!("value=\"{url}\"")), "the address to copy");
        let script_tags: Vec<&str> = html.split("<script").skip(1).map(|rest| rest.split('>').next().unwrap()).collect();
        assert!(!script_tags.is_empty());
        assert!(script_tags.iter().all(|tag| !tag.contains("//")), "no script from another site: {script_tags:?}");

        // The flyer's QR code is the campaign's address, drawn by the server.
        let qr = app.http.get(app.url(&format!("/api/v1/campaigns/{slug}/qr.svg"))).send().await.unwrap();
        assert_eq!(qr.status(), 200);
        assert_eq!(qr.headers()["content-type"], "image/svg+xml");
        assert!(qr.headers()["cache-control"].to_str().unwrap().contains("max-age"));
        let svg = qr.text().await.unwrap();
        assert_eq!(svg, rollcall::domain::qr::svg(&url, 600).unwrap(), "it encodes exactly the campaign's address");
        assert_ne!(svg, rollcall::domain::qr::svg(&format!("{url}x"), 600).unwrap());
        assert_eq!(app.http.get(app.url("/api/v1/campaigns/no-such-campaign/qr.svg")).send().await.unwrap().status(), 404);
        app.finish().await;
    }
}

both_databases! {
    async fn a_reader_gets_the_site_in_their_language_and_keeps_it(app: TestApp) {
        let slug = "joint-statement-demo";
        let local = counted(&app, slug, 12345).await;
        let get = |path: &str, language: &str| {
            app.http.get(app.url(path)).header("Accept-Language", language).send()
        };

        // A browser set to Spanish: the page's own words, its language, its numbers.
        let spanish = get(&format!("/c/{slug}"), "es-MX,es;q=0.9").await.unwrap().text().await.unwrap();
        assert!(spanish.contains("<html lang=\"es\""), "the document says its language");
        for words in ["Su sindicato y local", "Use una dirección personal", ">Firmar</button>", "firmas confirmadas", "Compártala", "Idioma"] {
            assert!(spanish.contains(words), "Spanish: {words}");
        }
        assert!(spanish.contains(">12.345</span>"), "Spanish groups thousands with a point");
        assert!(!spanish.contains("Your union and local"), "no English left on the form");

        // A shared link's ?lang= wins over the browser, and is remembered.
        let chosen = get(&format!("/c/{slug}?lang=en"), "es-MX,es;q=0.9").await.unwrap();
        let cookie = chosen.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("rollcall_lang=en;") && cookie.contains("HttpOnly"), "{cookie}");
        let english = chosen.text().await.unwrap();
        assert!(english.contains("<html lang=\"en\""));
        assert!(english.contains("Your union and local") && english.contains(">12,345</span>"));
        let next = app.http.get(app.url("/")).header("Accept-Language", "es").header("Cookie", "rollcall_lang=en").send().await.unwrap().text().await.unwrap();
        assert!(next.contains("Open campaigns"), "the choice outlives the link");
        let switch = get("/", "es").await.unwrap().text().await.unwrap();
        assert!(switch.contains("<h1>Campañas abiertas</h1>") && switch.contains("href=\"?lang=en\""), "a switch back on every page");
        let sign_in = get("/sign-in?role_added=1", "es").await.unwrap().text().await.unwrap();
        assert!(sign_in.contains("href=\"?lang=en\""), "the switch leaves a one-off notice behind");
        assert!(sign_in.contains("<h1>Iniciar sesión</h1>") && sign_in.contains(">Contraseña</label>"), "signing in, too");

        // A Spanish signer: the form's answers and the mail are in Spanish.
        let petition = "joint-statement-demo";
        let bad = app.sign_json(petition, serde_json::json!({"given_name": "", "family_name": "Ruiz", "email": "x", "local_id": local, "lang": "es"})).await;
        assert_eq!(bad.status(), 422);
        let body = bad.text().await.unwrap();
        assert!(body.contains("Escriba su nombre.") && body.contains("Esa dirección de correo no parece correcta."), "{body}");
        let signed = app.sign_json(petition, serde_json::json!({"given_name": "Ana", "family_name": "Ruiz", "email": "ana@example.org", "local_id": local, "lang": "es"})).await;
        assert_eq!(signed.status(), 202);
        let mail = &app.wait_for_mails(1, std::time::Duration::from_secs(10)).await[0];
        assert_eq!(mail.subject, "Confirme su firma");
        assert!(mail.text.contains("Hola:") && !mail.text.contains("Ana") && mail.text.contains("Su firma cuenta cuando la confirme"), "{}", mail.text);
        // Its link opens the confirm page in Spanish, on a phone set to English too.
        let link = mail.link("/v/").expect("a confirm link");
        assert!(link.ends_with("?lang=es"), "{link}");
        let page = app.http.get(&link).header("Accept-Language", "en-US").send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<h1>Confirme su firma</h1>"), "the confirm page follows the mail");
        app.finish().await;
    }
}

fn pages_kept_a_minute(settings: &mut server::Settings) {
    settings.page_cache_ms = 60_000;
}

both_databases! {
    async fn public_pages_are_kept_and_shared_per_language_and_encoding(app: TestApp) with(pages_kept_a_minute) {
        let slug = "joint-statement-demo";
        let path = format!("/c/{slug}");
        let get = |query: &str, headers: &[(&str, &str)]| {
            let mut request = app.http.get(app.url(&format!("{path}{query}")));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                let cookie = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
                let vary = response.headers()["vary"].to_str().unwrap().to_owned();
                let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
                (response.bytes().await.unwrap(), cookie, vary, encoding)
            }
        };
        // Each render has its own nonce and form stamp, so equal bytes are a kept page.
        let (first, _, vary, _) = get("", &[]).await;
        counted(&app, slug, 1234).await;
        let (again, ..) = get("", &[]).await;
        assert_eq!(first, again, "the second reader gets the page as it was kept");
        assert!(vary.contains("accept-language"), "{vary}");
        let (tracked, ..) = get("?fbclid=abc123&utm_source=whatsapp", &[]).await;
        assert_eq!(first, tracked, "a referrer's parameters change nothing");
        // A form's error comes back in the address: that page is its reader's alone.
        let failed = "?__path=/api/sign&__err=%7B%22NotOpen%22%3Anull%7D";
        assert_ne!(get(failed, &[]).await.0, get(failed, &[]).await.0, "rendered each time");
        assert_eq!(first, get("", &[]).await.0, "and the kept page is untouched by it");

        let (spanish, ..) = get("", &[("Accept-Language", "es")]).await;
        let text = String::from_utf8_lossy(&spanish);
        assert!(text.contains("Personal suficiente"), "each language is kept apart");
        assert_eq!(spanish, get("", &[("Accept-Language", "es-MX,es;q=0.9")]).await.0);

        // A `?lang=` link remembers the choice, for every reader who follows it.
        let (asked, cookie, ..) = get("?lang=es", &[]).await;
        assert!(cookie.is_some_and(|c| c.starts_with("rollcall_lang=es")));
        let (asked_again, cookie, ..) = get("?lang=es", &[]).await;
        assert_eq!(asked, asked_again);
        assert!(cookie.is_some(), "the kept answer still sets the cookie");

        let (zipped, _, _, encoding) = get("", &[("Accept-Encoding", "gzip")]).await;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert!(zipped.len() < first.len() / 2, "kept compressed");
        assert_eq!(zipped, get("", &[("Accept-Encoding", "br;q=1, gzip;q=0.8")]).await.0);

        // Only the public pages are kept.
        let thanks = || async { app.http.get(app.url(&format!("{path}/thanks"))).send().await.unwrap().bytes().await.unwrap() };
        assert_ne!(thanks().await, thanks().await);
        app.finish().await;
    }
}
