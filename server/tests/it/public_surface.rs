//! Signer safety on the public surface (issue 28), each test the attack it prevents: what
//! an outsider with curl sends, and the answer that must not differ or must not carry
//! their words.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_databases;
use crate::harness::{Backend, TestApp, token_of};

const PETITION: &str = "joint-statement-demo";
const PLEDGE: &str = "general-strike-pledge-demo";
const MAIL_WAIT: Duration = Duration::from_secs(15);

fn signer(given: &str, email: &str, local_id: i64) -> Value {
    json!({
        "given_name": given,
        "family_name": "Ruiz",
        "email": email,
        "local_id": local_id,
    })
}

/// A page's text with the link's token and the page's script nonce taken out, so two
/// answers can be compared whole.
async fn page_without(app: &TestApp, link: &str) -> (u16, String) {
    let response = app.http.get(link).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    let nonce = body
        .split_once("nonce=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(nonce, _)| nonce.to_owned())
        .expect("the page has a script nonce");
    (
        status,
        body.replace(token_of(link), "TOKEN")
            .replace(&nonce, "NONCE"),
    )
}

both_databases! {
    async fn the_json_sign_api_answers_401_without_a_partner_key_and_writes_nothing(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        let url = app.url(&format!("/api/v1/campaigns/{PETITION}/signatures"));
        let body = signer("Ana", "ana@example.org", local);
        // The organizer's export key is a key, but not a partner's.
        let (_, export_key) = rollcall::accounts::access::create_key(&app.db, rollcall::accounts::access::KeyFor::Campaign(PETITION), "export", chrono::Utc::now()).await.unwrap();
        let attempts = [
            None,
            Some("Bearer ".to_owned()),
            Some("Bearer not-a-key".to_owned()),
            Some(format!("Bearer {}", rollcall::domain::Token::generate().as_str())),
            Some(format!("Bearer {}", export_key.as_str())),
            Some(format!("Basic {}", app.partner_key)),
        ];
        for authorization in attempts {
            let mut request = app.http.post(&url).json(&body);
            if let Some(value) = &authorization {
                request = request.header("Authorization", value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{authorization:?}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            assert_eq!(response.json::<Value>().await.unwrap()["error"], "unauthorized");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0, "nobody was mailed");

        let signed = app.sign_json(PETITION, body).await;
        assert_eq!(signed.status(), 202, "a partner's key signs");
        app.finish().await;
    }

    async fn a_visitor_address_is_believed_only_from_a_partner_on_the_sign_api(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        let signed = app.http.post(app.url(&format!("/api/v1/campaigns/{PETITION}/signatures")))
            .bearer_auth(&app.partner_key)
            .header("X-Visitor-IP", "198.51.100.7")
            .json(&signer("Ana", "ana@example.org", local))
            .send().await.unwrap();
        assert_eq!(signed.status(), 202);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE ip = '198.51.100.7'").await, 1, "the partner's visitor");

        // The same headers on the browser form's endpoint name nobody: the peer is the
        // client there.
        let page_url = app.url(&format!("/c/{PETITION}"));
        let stamp = app.form_stamp(PETITION).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let fields = [("slug", PETITION.to_owned()), ("given_name", "Bea".into()), ("family_name", "Ruiz".into()), ("email", "bea@example.org".into()), ("local_id", local.to_string()), ("stamp", stamp)];
        let form = app.http.post(app.url("/api/sign"))
            .bearer_auth(&app.partner_key)
            .header("X-Visitor-IP", "198.51.100.8")
            .header("Accept", "text/html").header("Referer", &page_url)
            .form(&fields).send().await.unwrap();
        assert_eq!(form.status(), 302);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE ip = '198.51.100.8'").await, 0, "not believed off the sign API");
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE ip = '127.0.0.1'").await, 1);
        app.finish().await;
    }

    async fn the_confirmation_mail_carries_no_text_of_the_request(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        let bait = "Call +1 555 0100 to unlock your account";
        let mut body = signer(bait, "victim@example.org", local);
        body["family_name"] = json!("Visit evil.example now");
        body["employer"] = json!("Your bank 555-0100");
        assert_eq!(app.sign_json(PETITION, body.clone()).await.status(), 202);
        let ask = &app.wait_for_mails(1, MAIL_WAIT).await[0];
        for mail_part in [&ask.text, &ask.html, &ask.subject] {
            for typed in ["555", "unlock", "evil.example", "bank", "Ruiz"] {
                assert!(!mail_part.contains(typed), "{typed:?} reached the mail: {mail_part}");
            }
        }
        assert!(ask.link("/v/").is_some(), "it carries the link");
        assert!(ask.text.contains("Safe Staffing"), "and names the campaign");

        // The address has confirmed: the "already signed" mail carries nothing typed either.
        app.press_confirm(&ask.link("/v/").unwrap()).await;
        app.wait_for_mails(2, MAIL_WAIT).await;
        app.sign_json(PETITION, body).await;
        let already = &app.wait_for_mails(3, MAIL_WAIT).await[2];
        assert_eq!(already.subject, "You have already signed");
        assert!(!already.text.contains("555") && !already.html.contains("555"), "{}", already.text);
        app.finish().await;
    }

    async fn a_second_sign_cannot_take_over_a_pending_signature(app: TestApp) {
        let (worker_local, other_local) = (app.a_local_of(PETITION, 0).await, app.a_local_of(PETITION, 5).await);
        assert_eq!(app.sign_json(PETITION, signer("Ana", "ana.ruiz@example.org", worker_local)).await.status(), 202);
        let worker_link = app.wait_for_mails(1, MAIL_WAIT).await[0].link("/v/").unwrap();
        // A stranger signs the worker's address (an alias of it) with other details.
        assert_eq!(app.sign_json(PETITION, signer("Mallory", "Ana.Ruiz@Example.org", other_local)).await.status(), 202);
        let stranger_link = app.wait_for_mails(2, MAIL_WAIT).await[1].link("/v/").unwrap();
        assert_ne!(worker_link, stranger_link);

        let page = app.http.get(&worker_link).send().await.unwrap();
        assert_eq!(page.status(), 200, "the first link still works");
        let page = page.text().await.unwrap();
        assert!(page.contains("Ana Ruiz") && !page.contains("Mallory"), "and shows only what its own request wrote");
        let stranger_page = app.http.get(&stranger_link).send().await.unwrap().text().await.unwrap();
        assert!(stranger_page.contains("Mallory") && !stranger_page.contains("Ana Ruiz"), "each link shows its own request");

        assert_eq!(app.press_confirm(&worker_link).await.headers()["location"], format!("/c/{PETITION}/confirmed"));
        let tally = app.tally(PETITION).await;
        assert_eq!(tally["total"], 1);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM signatures WHERE status = 'confirmed' AND given_name = 'Ana' AND local_id = {worker_local}")).await, 1, "the first request's details are what counts");
        let receipt = &app.wait_for_mails(3, MAIL_WAIT).await[2];
        assert!(receipt.text.contains("Ana") && !receipt.text.contains("Mallory"));

        // The stranger's link is used up with the worker's confirmation.
        assert_eq!(app.http.get(&stranger_link).send().await.unwrap().status(), 404);
        app.press_confirm(&stranger_link).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE given_name = 'Mallory'").await, 0);
        assert_eq!(app.tally(PETITION).await["total"], 1);
        app.finish().await;
    }

    async fn the_second_requests_link_confirms_its_own_details_when_pressed_first(app: TestApp) {
        let (first_local, second_local) = (app.a_local_of(PETITION, 0).await, app.a_local_of(PETITION, 5).await);
        app.sign_json(PETITION, signer("Ana", "ana@example.org", first_local)).await;
        let mut again = signer("Ana María", "ana@example.org", second_local);
        again["show_name"] = json!(true);
        app.sign_json(PETITION, again).await;
        let mails = app.wait_for_mails(2, MAIL_WAIT).await;
        let (first, second) = (mails[0].link("/v/").unwrap(), mails[1].link("/v/").unwrap());
        app.press_confirm(&second).await;
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM signatures WHERE status = 'confirmed' AND given_name = 'Ana María' AND show_name AND local_id = {second_local}")).await, 1);
        assert_eq!(app.tally(PETITION).await["by_local"], json!([{"local_id": second_local, "count": 1}]));
        assert_eq!(app.count("SELECT COUNT(*) FROM sign_candidates").await, 0, "the other requests go with the confirmation");
        app.press_confirm(&first).await;
        assert_eq!(app.tally(PETITION).await["total"], 1, "the first link is used up too");
        let campaign_id = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PETITION}'")).await;
        assert!(rollcall::store::tally::recount(&app.db, campaign_id).await.unwrap().matches());
        app.finish().await;
    }

    async fn a_used_expired_or_unknown_link_answers_alike_and_names_nobody(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        app.sign_json(PETITION, signer("Ana", "ana@example.org", local)).await;
        app.sign_json(PETITION, signer("Bea", "bea@example.org", local)).await;
        let mails = app.wait_for_mails(2, MAIL_WAIT).await;
        let link_to = |to: &str| mails.iter().find(|m| m.to == to).and_then(|m| m.link("/v/")).unwrap();
        let (used, expiring) = (link_to("ana@example.org"), link_to("bea@example.org"));
        app.press_confirm(&used).await;
        app.exec("UPDATE signatures SET confirm_expires_at = created_at WHERE status = 'pending'").await;
        // As a mail writes it, with the signer's language.
        let unknown = format!("{}/v/{}?lang=en", app.base, rollcall::domain::Token::generate().as_str());

        let answers = [page_without(&app, &used).await, page_without(&app, &expiring).await, page_without(&app, &unknown).await];
        assert_eq!(answers[0].0, 404);
        assert!(answers[0].1.contains("This link no longer works"));
        assert_eq!(answers[0], answers[1], "a used link answers as an expired one");
        assert_eq!(answers[1], answers[2], "and as one never sent");
        for (_, body) in &answers {
            assert!(!body.contains("Ana") && !body.contains("Bea") && !body.contains("Safe Staffing"), "names nobody and no campaign");
        }
        // Pressing them answers alike too, and counts nothing more.
        let mut pressed = Vec::new();
        for link in [&used, &expiring, &unknown] {
            let response = app.press_confirm(link).await;
            pressed.push(response.headers()["location"].to_str().unwrap().replace(token_of(link), "TOKEN"));
        }
        assert_eq!(pressed[0], pressed[1]);
        assert_eq!(pressed[1], pressed[2]);
        assert_eq!(app.tally(PETITION).await["total"], 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE confirm_token_hash IS NOT NULL AND status = 'confirmed'").await, 0, "a used link's hash is gone");
        app.finish().await;
    }

    async fn strangers_using_up_a_mailbox_on_one_campaign_leave_its_mail_on_another(app: TestApp) with(|s: &mut server::Settings| {
            s.mails_per_mailbox_per_hour = 2;
        }) {
        let petition_local = app.a_local_of(PETITION, 0).await;
        for _ in 0..4 {
            app.sign_json(PETITION, signer("Mallory", "ana@example.org", petition_local)).await;
        }
        app.wait_for_mails(2, MAIL_WAIT).await;
        let pledge_local = app.a_local_of(PLEDGE, 0).await;
        assert_eq!(app.sign_json(PLEDGE, signer("Ana", "ana@example.org", pledge_local)).await.status(), 202);
        let mails = app.wait_for_mails(3, MAIL_WAIT).await;
        assert_eq!(mails.len(), 3, "two on the petition, and the worker's own on the pledge");
        app.finish().await;
    }
}
