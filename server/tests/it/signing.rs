//! Signing, confirming and counting, end to end through HTTP and real mail.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_databases;
use crate::harness::{Backend, TestApp};

const PETITION: &str = "joint-statement-demo";
const MAIL_WAIT: Duration = Duration::from_secs(15);

fn ana(local_id: i64) -> Value {
    json!({
        "given_name": "Ana",
        "family_name": "Ruiz",
        "email": "ana.ruiz@example.org",
        "local_id": local_id,
        "show_name": false,
    })
}

both_databases! {
    async fn a_signature_counts_once_confirmed_and_a_receipt_follows(app: TestApp) {
        let local = app.a_local_of(PETITION, 3).await;
        let response = app.sign_json(PETITION, ana(local)).await;
        assert_eq!(response.status(), 202);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": "pending"}));
        assert_eq!(app.tally(PETITION).await["total"], 0, "pending signatures are not counted");

        let mails = app.wait_for_mails(1, MAIL_WAIT).await;
        let ask = &mails[0];
        assert_eq!(ask.to, "ana.ruiz@example.org");
        assert_eq!(ask.subject, "Please confirm your signature");
        assert!(!ask.subject.contains("demo") && !ask.subject.contains("Local"), "subjects name neither union nor local");
        let link = ask.link("/v/").expect("a confirmation link");
        assert!(link.starts_with(&app.base), "links start at PUBLIC_URL: {link}");
        assert!(!ask.html.contains("<img"), "no tracking pixels");

        // Opening the link (as a mail scanner would) changes nothing.
        let page = app.http.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Confirm my signature") && html.contains("Ana Ruiz"));
        assert_eq!(app.tally(PETITION).await["total"], 0);

        let confirmed = app.press_confirm(&link).await;
        assert_eq!(confirmed.status(), 302);
        assert_eq!(confirmed.headers()["location"], format!("/c/{PETITION}/confirmed"));
        let tally = app.tally(PETITION).await;
        assert_eq!(tally["total"], 1);
        assert_eq!(tally["by_local"], json!([{"local_id": local, "count": 1}]));

        let mails = app.wait_for_mails(2, MAIL_WAIT).await;
        let receipt = &mails[1];
        assert_eq!(receipt.subject, "Your signature is confirmed");
        assert!(receipt.text.contains("Safe Staffing and the Freedom to Organize"), "the receipt carries the text signed");
        assert!(receipt.text.contains("not shown to the public"), "the receipt says who sees the name");
        assert!(receipt.link("/w/").is_some(), "the receipt carries a withdrawal link");

        // The link is used: pressing again counts nothing more.
        app.press_confirm(&link).await;
        assert_eq!(app.tally(PETITION).await["total"], 1);
        let campaign_id = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PETITION}'")).await;
        let recount = rollcall::store::tally::recount(&app.db, campaign_id).await.unwrap();
        assert!(recount.matches(), "tallies equal the confirmed rows: {recount:?}");
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE body_text IS NOT NULL AND sent_at IS NOT NULL").await, 0, "sent mail keeps no body");
        app.finish().await;
    }

    async fn each_receipt_quotes_the_version_its_signer_signed_as_it_reads(app: TestApp) {
        use sea_orm::ConnectionTrait;
        const FIRST: &str = "too few people asked to do too much work";
        const EDITED: &str = "too few hands for the work there is";
        let local = app.a_local_of(PETITION, 1).await;
        let signer = |name: &str| {
            let mut body = ana(local);
            body["email"] = json!(format!("{name}@example.org"));
            body
        };
        app.sign_json(PETITION, signer("first")).await;
        // The statement is edited after the first signer signed: a new version.
        let edited = server::demo::CAMPAIGNS[0].replacen(FIRST, EDITED, 1);
        assert_ne!(edited, server::demo::CAMPAIGNS[0], "the demo text has the phrase the test edits");
        rollcall::organizing::import::import_campaign(&app.db, &edited, chrono::Utc::now()).await.unwrap();
        app.sign_json(PETITION, signer("second")).await;
        app.sign_json(PETITION, signer("third")).await;
        let asks = app.wait_for_mails(3, MAIL_WAIT).await;
        let link = |to: &str| asks.iter().find(|m| m.to == to).and_then(|m| m.link("/v/")).unwrap();
        // The receipt's text part and its HTML part together.
        let receipt_of = |mails: &[crate::harness::Mail], to: &str| {
            let receipt = mails.iter().find(|m| m.to == to && m.subject == "Your signature is confirmed").unwrap();
            format!("{}\n{}", receipt.text, receipt.html)
        };

        app.press_confirm(&link("first@example.org")).await;
        app.press_confirm(&link("second@example.org")).await;
        let mails = app.wait_for_mails(5, MAIL_WAIT).await;
        let first = receipt_of(&mails, "first@example.org");
        let second = receipt_of(&mails, "second@example.org");
        assert!(first.contains(FIRST) && !first.contains(EDITED), "the first signer's receipt quotes the text before the edit");
        assert!(second.contains(EDITED) && !second.contains(FIRST), "the second's quotes it after");
        assert!(second.contains(&format!("<strong>{EDITED}</strong>")), "in HTML as well: {second}");

        // A text changed in the database by hand is quoted as it now reads, even though
        // the same version was quoted before.
        app.db
            .execute_unprepared("UPDATE campaign_texts SET body_md = 'Changed by hand.' WHERE version = 2 AND language = 'en' AND campaign_id = (SELECT id FROM campaigns WHERE slug = 'joint-statement-demo')")
            .await
            .unwrap();
        app.press_confirm(&link("third@example.org")).await;
        let third = receipt_of(&app.wait_for_mails(6, MAIL_WAIT).await, "third@example.org");
        assert!(third.contains("<p>Changed by hand.</p>") && !third.contains(EDITED), "the third's quotes the version it signed as the row now reads, in both parts");
        assert_eq!(third.matches("Changed by hand.").count(), 2, "once in the text part, once in the HTML: {third}");
        app.finish().await;
    }

    async fn a_second_signature_with_the_same_email_is_not_counted(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        app.sign_json(PETITION, ana(local)).await;
        let link = app.wait_for_mails(1, MAIL_WAIT).await[0].link("/v/").unwrap();
        app.press_confirm(&link).await;
        app.wait_for_mails(2, MAIL_WAIT).await;

        let mut again = ana(local);
        again["email"] = json!("ANA.RUIZ@Example.org");
        let response = app.sign_json(PETITION, again).await;
        assert_eq!(response.status(), 202, "the same answer as a first signature");
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": "pending"}));
        let mails = app.wait_for_mails(3, MAIL_WAIT).await;
        assert_eq!(mails[2].subject, "You have already signed");
        assert_eq!(app.tally(PETITION).await["total"], 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 1);
        app.finish().await;
    }

    async fn community_supporters_are_counted_apart_from_locals(app: TestApp) {
        let mut supporter = ana(0);
        supporter["local_id"] = Value::Null;
        assert_eq!(app.sign_json(PETITION, supporter).await.status(), 202);
        let link = app.wait_for_mails(1, MAIL_WAIT).await[0].link("/v/").unwrap();
        app.press_confirm(&link).await;
        let tally = app.tally(PETITION).await;
        assert_eq!(tally["total"], 1);
        assert_eq!(tally["community_supporters"], 1);
        assert_eq!(tally["by_local"], json!([]));
        app.finish().await;
    }

    async fn bad_input_gets_a_clear_answer_and_writes_nothing(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        let long = "x".repeat(500);
        let cases: Vec<(Value, &str)> = vec![
            (json!({"given_name": "", "family_name": "Ruiz", "email": "a@example.org", "local_id": local}), "given_name"),
            (json!({"given_name": long, "family_name": "Ruiz", "email": "a@example.org", "local_id": local}), "given_name"),
            (json!({"given_name": "Ana", "family_name": "Ruiz", "email": "not-an-address", "local_id": local}), "email"),
            (json!({"given_name": "Ana", "family_name": "Ruiz", "email": "a@example.org", "local_id": 999_999}), "local_id"),
            (json!({"given_name": "Ana", "family_name": "Ruiz", "email": "a@example.org", "local_id": local, "phone": "12"}), "phone"),
        ];
        for (body, field) in cases {
            let response = app.sign_json(PETITION, body).await;
            assert_eq!(response.status(), 422);
            let answer: Value = response.json().await.unwrap();
            assert_eq!(answer["error"], "invalid");
            assert_eq!(answer["fields"][0]["field"], field, "{answer}");
            assert!(answer["fields"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }

        // A local of a union that does not sponsor the pledge cannot sign it.
        let pledge_locals: Value = app.http.get(app.url("/api/v1/campaigns/general-strike-pledge-demo")).send().await.unwrap().json().await.unwrap();
        let pledge_ids: Vec<i64> = pledge_locals["locals"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
        let petition: Value = app.http.get(app.url(&format!("/api/v1/campaigns/{PETITION}"))).send().await.unwrap().json().await.unwrap();
        let outsider = petition["locals"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).find(|id| !pledge_ids.contains(id)).unwrap();
        let response = app.sign_json("general-strike-pledge-demo", ana(outsider)).await;
        assert_eq!(response.status(), 422);

        let response = app.sign_json("no-such-campaign", ana(local)).await;
        assert_eq!(response.status(), 404);

        app.exec("UPDATE campaigns SET status = 'closed' WHERE slug = 'general-strike-pledge-demo'").await;
        let response = app.sign_json("general-strike-pledge-demo", ana(pledge_ids[0])).await;
        assert_eq!(response.status(), 409);

        let sign_url = app.url(&format!("/api/v1/campaigns/{PETITION}/signatures"));
        let huge = json!({"given_name": "Ana", "family_name": "x".repeat(40_000), "email": "a@example.org", "local_id": local});
        // On a client of its own: the server closes a connection whose body it refused
        // unread, and a pooled client could pick that closing connection for its next
        // request.
        let once = reqwest::Client::new();
        let response = once.post(&sign_url).bearer_auth(&app.partner_key).json(&huge).send().await.unwrap();
        assert_eq!(response.status(), 413, "a body over the limit");

        let response = app.http.post(&sign_url).bearer_auth(&app.partner_key).body(ana(local).to_string()).send().await.unwrap();
        assert_eq!(response.status(), 415, "a body without the JSON content type");
        let response = app.http.post(&sign_url).bearer_auth(&app.partner_key).header("content-type", "application/json").body("{\"given_name\": ").send().await.unwrap();
        assert_eq!(response.status(), 400, "malformed JSON");
        let mut unknown_field = ana(local);
        unknown_field["is_admin"] = json!(true);
        let response = app.http.post(&sign_url).bearer_auth(&app.partner_key).json(&unknown_field).send().await.unwrap();
        assert_eq!(response.status(), 422, "an unknown field");
        let mut wrong_type = ana(local);
        wrong_type["local_id"] = json!("seven");
        let response = app.http.post(&sign_url).bearer_auth(&app.partner_key).json(&wrong_type).send().await.unwrap();
        assert_eq!(response.status(), 422, "a field of the wrong type");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["message"].is_string());

        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 0, "no row written");
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0, "no mail queued");
        app.finish().await;
    }

    async fn a_mail_server_that_is_down_delays_the_mail_and_loses_none(app: TestApp) {
        let mut app = app;
        app.smtp.stop();
        let local = app.a_local_of(PETITION, 2).await;
        assert_eq!(app.sign_json(PETITION, ana(local)).await.status(), 202, "signing does not wait for mail");
        // The worker tries, fails, and keeps the mail for later.
        let deadline = std::time::Instant::now() + MAIL_WAIT;
        while app.count("SELECT COUNT(*) FROM outbox WHERE attempts > 0 AND sent_at IS NULL").await == 0 {
            assert!(std::time::Instant::now() < deadline, "the worker never tried");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        app.smtp.resume();
        let mails = app.wait_for_mails(1, Duration::from_secs(30)).await;
        assert_eq!(mails[0].subject, "Please confirm your signature");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(app.smtp.messages().len(), 1, "the mail arrives once");
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await, 0);
        app.finish().await;
    }

    async fn mail_over_the_minutes_ceiling_waits_and_none_is_lost(app: TestApp) with(|s: &mut server::Settings| s.mails_per_minute = 2) {
        // The ceiling is per minute of the app's clock: start at the beginning of one.
        app.to_start_of_next_day();
        let local = app.a_local_of(PETITION, 1).await;
        for name in ["ana", "bea", "cai"] {
            let mut signer = ana(local);
            signer["email"] = json!(format!("{name}@example.org"));
            assert_eq!(app.sign_json(PETITION, signer).await.status(), 202);
        }
        let mails = app.wait_for_mails(2, MAIL_WAIT).await;
        assert_eq!(mails.len(), 2);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(app.smtp.messages().len(), 2, "the ceiling holds the third");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND claimed_until IS NULL").await,
            1,
            "the third waits unclaimed, for whichever worker the next minute finds"
        );
        // The next minute: the worker waits for it, however often it is woken before.
        app.advance(Duration::from_secs(60));
        let mails = app.wait_for_mails(3, MAIL_WAIT).await;
        let mut to: Vec<_> = mails.iter().map(|m| m.to.clone()).collect();
        to.sort();
        assert_eq!(to, ["ana@example.org", "bea@example.org", "cai@example.org"], "each once");
        app.finish().await;
    }

    async fn a_closed_campaign_accepts_confirmations_for_a_day(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        app.sign_json(PETITION, ana(local)).await;
        let mut bea = ana(local);
        bea["email"] = json!("bea@example.org");
        app.sign_json(PETITION, bea).await;
        let mails = app.wait_for_mails(2, MAIL_WAIT).await;
        let (first, second) = (mails[0].link("/v/").unwrap(), mails[1].link("/v/").unwrap());

        let closed_an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
        app.exec(&format!("UPDATE campaigns SET status = 'closed', closes_at = '{closed_an_hour_ago}' WHERE slug = '{PETITION}'")).await;
        app.press_confirm(&first).await;
        assert_eq!(app.tally(PETITION).await["total"], 1, "within the grace period");

        let closed_two_days_ago = (chrono::Utc::now() - chrono::Duration::hours(48)).to_rfc3339();
        app.exec(&format!("UPDATE campaigns SET closes_at = '{closed_two_days_ago}' WHERE slug = '{PETITION}'")).await;
        let page = app.http.get(&second).send().await.unwrap();
        assert_eq!(page.status(), 410);
        app.press_confirm(&second).await;
        assert_eq!(app.tally(PETITION).await["total"], 1, "after the grace period nothing more counts");
        app.finish().await;
    }

    async fn a_confirmations_write_asks_of_the_campaign_what_its_read_does(app: TestApp) {
        // A campaign that closes while a confirmation waits to write stops it there: the
        // write's condition must be the read's.
        use rollcall::{store::campaigns, entities::campaign};
        use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
        if app.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            // The race itself, where writers queue in the process (SQLite): the press has
            // read an open campaign and waits for its turn while another writer closes it.
            let local = app.a_local_of(PETITION, 0).await;
            app.sign_json(PETITION, ana(local)).await;
            let link = app.wait_for_mails(1, MAIL_WAIT).await[0].link("/v/").unwrap();
            let token = crate::harness::token_of(&link).to_owned();
            let closing = rollcall::store::db::begin_write(&app.db).await.unwrap();
            let db = app.db.clone();
            let press = tokio::spawn(async move { rollcall::signing::confirming::confirm(&db, &token, "http://x", chrono::Utc::now()).await });
            tokio::time::sleep(Duration::from_millis(500)).await;
            closing.execute_unprepared(&format!("UPDATE campaigns SET status = 'draft' WHERE slug = '{PETITION}'")).await.unwrap();
            closing.commit().await.unwrap();
            let pressed = press.await.unwrap();
            assert!(matches!(pressed, Err(rollcall::signing::confirming::ConfirmError::Closed { .. })), "{pressed:?}");
            assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE status = 'pending'").await, 1, "still pending");
            assert_eq!(app.count("SELECT COALESCE(SUM(count), 0) FROM local_tallies").await, 0, "nothing counted");
        }
        let now = chrono::Utc::now();
        let hours = |h: i64| Some(now + chrono::Duration::hours(h));
        for status in ["open", "closed", "draft", "archived"] {
            for closes_at in [None, hours(1), hours(-1), hours(-23), hours(-25), hours(-48)] {
                let at = closes_at.map_or("NULL".to_owned(), |at| format!("'{}'", at.to_rfc3339()));
                app.exec(&format!("UPDATE campaigns SET status = '{status}', closes_at = {at} WHERE slug = '{PETITION}'")).await;
                let read = campaigns::by_slug(&app.db, PETITION).await.unwrap().unwrap();
                let written = campaign::Entity::find()
                    .filter(campaign::Column::Id.in_subquery(campaigns::taking_confirmations(read.id, now)))
                    .count(&app.db)
                    .await
                    .unwrap();
                assert_eq!(written == 1, campaigns::accepts_confirmations(&read, now), "{status}, closing {closes_at:?}");
            }
        }
        app.finish().await;
    }

    async fn many_presses_at_once_count_a_signature_once(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        app.sign_json(PETITION, ana(local)).await;
        let link = app.wait_for_mails(1, MAIL_WAIT).await[0].link("/v/").unwrap();
        let presses = (0..8).map(|_| app.press_confirm(&link));
        for response in futures::future::join_all(presses).await {
            assert_eq!(response.status(), 302);
        }
        assert_eq!(app.tally(PETITION).await["total"], 1);
        app.wait_for_mails(2, MAIL_WAIT).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(app.smtp.messages().len(), 2, "one receipt");
        app.finish().await;
    }

    async fn the_form_works_without_javascript(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        let page_url = app.url(&format!("/c/{PETITION}"));
        let stamp = app.form_stamp(PETITION).await;
        // A person takes longer than the form's minimum to fill it in.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let post = |mut fields: Vec<(&'static str, String)>| {
            fields.push(("stamp", stamp.clone()));
            app.http.post(app.url("/api/sign")).header("Accept", "text/html").header("Referer", &page_url).form(&fields).send()
        };
        let bad = post(vec![("slug", PETITION.into()), ("given_name", "Ana".into()), ("family_name", "Ruiz".into()), ("email", "ana@nowhere".into()), ("local_id", local.to_string())]).await.unwrap();
        assert_eq!(bad.status(), 302);
        let back = bad.headers()["location"].to_str().unwrap().to_owned();
        assert!(back.starts_with(&page_url) && !back.contains("nowhere") && !back.contains("Ruiz"), "nothing typed goes into the URL: {back}");
        let with_messages = app.http.get(&back).send().await.unwrap().text().await.unwrap();
        assert!(with_messages.contains("That email address doesn"), "the form shows the email field's message");

        let good = post(vec![("slug", PETITION.into()), ("given_name", "Ana".into()), ("family_name", "Ruiz".into()), ("email", "ana@example.org".into()), ("local_id", local.to_string()), ("show_name", "on".into())]).await.unwrap();
        assert_eq!(good.status(), 302);
        assert_eq!(good.headers()["location"], format!("/c/{PETITION}/thanks"));
        let thanks = app.http.get(app.url(&format!("/c/{PETITION}/thanks"))).send().await.unwrap().text().await.unwrap();
        assert!(thanks.contains("Check your email"));
        app.wait_for_mails(1, MAIL_WAIT).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE show_name").await, 1);
        app.finish().await;
    }
}

both_databases! {
    async fn withdrawing_from_the_receipt_stops_the_signature_counting(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        app.sign_json(PETITION, ana(local)).await;
        let link = app.wait_for_mails(1, MAIL_WAIT).await[0].link("/v/").unwrap();
        app.press_confirm(&link).await;
        let withdraw_link = app.wait_for_mails(2, MAIL_WAIT).await[1].link("/w/").unwrap();
        assert_eq!(app.tally(PETITION).await["total"], 1);

        let page = app.http.get(&withdraw_link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Withdraw my signature"));
        assert_eq!(app.tally(PETITION).await["total"], 1, "opening the link changes nothing");

        let token = crate::harness::token_of(&withdraw_link);
        let press = || app.http.post(app.url("/api/withdraw")).header("Accept", "text/html").header("Referer", &withdraw_link).form(&[("token", token)]).send();
        let pressed = press().await.unwrap();
        assert_eq!(pressed.status(), 302);
        assert_eq!(pressed.headers()["location"], format!("/c/{PETITION}/withdrawn"));
        press().await.unwrap();
        assert_eq!(app.tally(PETITION).await["total"], 0, "withdrawn once, however often pressed");
        let campaign_id = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PETITION}'")).await;
        assert!(rollcall::store::tally::recount(&app.db, campaign_id).await.unwrap().matches());
        assert!(app.http.get(&withdraw_link).send().await.unwrap().text().await.unwrap().contains("already withdrawn"));
        app.finish().await;
    }
}
