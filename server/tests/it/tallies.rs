//! Live tallies: the stream, deltas, and the cacheable count.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::both_databases;
use crate::harness::{Backend, TestApp};

const PETITION: &str = "joint-statement-demo";
const WAIT: Duration = Duration::from_secs(15);

/// Reads server-sent events from a stream, skipping keep-alives.
struct Events {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, slug: &str) -> Self {
        Self::open_at(app, &app.url(""), slug).await
    }

    /// The stream of the server at `base` (another process on the same database).
    async fn open_at(app: &TestApp, base: &str, slug: &str) -> Self {
        let response = app
            .http
            .get(format!("{base}/api/v1/campaigns/{slug}/tally/stream"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event's name and data.
    async fn next(&mut self, within: Duration) -> (String, Value) {
        tokio::time::timeout(within, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let frame: String = self.buffer.drain(..end + 2).collect();
                    let mut name = String::new();
                    let mut data = String::new();
                    for line in frame.lines() {
                        if let Some(value) = line.strip_prefix("event: ") {
                            name = value.to_owned();
                        }
                        if let Some(value) = line.strip_prefix("data: ") {
                            data.push_str(value);
                        }
                    }
                    if !name.is_empty() {
                        return (
                            name,
                            serde_json::from_str(&data).expect("event data is JSON"),
                        );
                    }
                    continue;
                }
                let chunk = self
                    .body
                    .next()
                    .await
                    .expect("the stream stays open")
                    .expect("a chunk");
                self.buffer
                    .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
            }
        })
        .await
        .expect("an event in time")
    }
}

async fn sign_and_confirm(app: &TestApp, email: &str, local_id: i64, mails_before: usize) {
    let body =
        json!({"given_name": "Lu", "family_name": "Chen", "email": email, "local_id": local_id});
    sign_and_confirm_as(app, body, mails_before).await;
}

/// Signs with `body` and presses the link of the mail that arrives.
async fn sign_and_confirm_as(app: &TestApp, body: Value, mails_before: usize) {
    assert_eq!(app.sign_json(PETITION, body).await.status(), 202);
    let link = app.wait_for_mails(mails_before + 1, WAIT).await[mails_before]
        .link("/v/")
        .unwrap();
    assert_eq!(app.press_confirm(&link).await.status(), 302);
}

both_databases! {
    async fn a_confirmation_moves_the_live_total_and_its_local_only_at_the_next_tick(app: TestApp) {
        app.publish(PETITION, "by_local", 1).await;
        let (first, second) = (app.a_local_of(PETITION, 0).await, app.a_local_of(PETITION, 1).await);
        sign_and_confirm(&app, "one@example.org", first, 0).await;
        app.wait_for_mails(2, WAIT).await;
        tally_reaching(&app, 1).await;

        let mut events = Events::open(&app, PETITION).await;
        let (name, snapshot) = events.next(WAIT).await;
        assert_eq!(name, "snapshot");
        assert_eq!(snapshot["total"], 1);

        sign_and_confirm(&app, "two@example.org", second, 2).await;
        let started = std::time::Instant::now();
        let (name, delta) = events.next(Duration::from_secs(1)).await;
        eprintln!("delta arrived {:?} after the confirmation", started.elapsed());
        assert_eq!(name, "delta");
        assert_eq!(delta["total"], 2, "the total is live");
        // An employer watching a local's count must not see it step with one signature:
        // the groups wait for the campaign's cadence.
        assert_eq!(delta["by_local"], json!([]), "no group moves with the signature: {delta}");
        assert!(delta.get("other").is_none() && delta.get("community_supporters").is_none(), "{delta}");
        assert!(delta["version"].as_u64() > snapshot["version"].as_u64());

        app.next_breakdown();
        let (name, ticked) = events.next(WAIT).await;
        assert_eq!(name, "delta");
        assert_eq!(ticked["total"], 2);
        assert_eq!(ticked["by_local"].as_array().unwrap().len(), 1, "only the local that moved: {ticked}");
        assert_eq!(ticked["by_local"][0]["local_id"], second);
        app.finish().await;
    }

    async fn a_crowd_of_subscribers_all_see_each_confirmation(app: TestApp) {
        // More subscribers than the hub deals events out to in turn, so every group has
        // some and some have two.
        let local = app.a_local_of(PETITION, 0).await;
        let mut crowd = Vec::new();
        for _ in 0..20 {
            let mut events = Events::open(&app, PETITION).await;
            let (name, snapshot) = events.next(WAIT).await;
            assert_eq!((name.as_str(), snapshot["total"].as_u64()), ("snapshot", Some(0)));
            crowd.push(events);
        }
        sign_and_confirm(&app, "crowd-one@example.org", local, 0).await;
        app.wait_for_mails(2, WAIT).await;
        sign_and_confirm(&app, "crowd-two@example.org", local, 2).await;
        for events in &mut crowd {
            // One delta, or two if the confirmations fell in different windows; each
            // moves the total on, and the last says two.
            let (name, delta) = events.next(WAIT).await;
            assert_eq!(name, "delta");
            if delta["total"] == 1 {
                let (name, delta) = events.next(WAIT).await;
                assert_eq!(name, "delta");
                assert_eq!(delta["total"], 2);
            } else {
                assert_eq!(delta["total"], 2);
            }
        }
        app.finish().await;
    }

    async fn the_tally_is_cacheable_with_an_etag(app: TestApp) {
        let url = app.url(&format!("/api/v1/campaigns/{PETITION}/tally"));
        let first = app.http.get(&url).send().await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["cache-control"], "public, max-age=1");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let again = app.http.get(&url).header("If-None-Match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304);
        let weakened = app.http.get(&url).header("If-None-Match", format!("W/{etag}")).send().await.unwrap();
        assert_eq!(weakened.status(), 304, "a proxy's weak ETag still matches");
        // Gzip, compressed once per version, under its own ETag.
        let zipped = app.http.get(&url).header("Accept-Encoding", "gzip").send().await.unwrap();
        assert_eq!(zipped.headers()["content-encoding"], "gzip");
        let zipped_etag = zipped.headers()["etag"].to_str().unwrap().to_owned();
        assert_ne!(zipped_etag, etag);
        let bytes = zipped.bytes().await.unwrap();
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
        let again = app.http.get(&url).header("Accept-Encoding", "gzip").header("If-None-Match", &zipped_etag).send().await.unwrap();
        assert_eq!(again.status(), 304);

        sign_and_confirm(&app, "three@example.org", app.a_local_of(PETITION, 0).await, 0).await;
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let response = app.http.get(&url).header("If-None-Match", &etag).send().await.unwrap();
            if response.status() == 200 {
                assert_ne!(response.headers()["etag"].to_str().unwrap(), etag);
                assert_eq!(response.json::<Value>().await.unwrap()["total"], 1);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the tally never moved");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app.finish().await;
    }
}

/// The page's HTML.
async fn page(app: &TestApp, path: &str) -> String {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// The tally over HTTP once its total reads `total` (the hub merges for a moment), with
/// its groups caught up: the clock is moved past the breakdown's next tick.
async fn tally_reaching(app: &TestApp, total: u64) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    let mut ticked_after: Option<Value> = None;
    loop {
        let tally: Value = app
            .http
            .get(app.url(&format!("/api/v1/campaigns/{PETITION}/tally")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match &ticked_after {
            Some(before) if tally["breakdown_at"] != *before => return tally,
            Some(_) => {}
            None if tally["total"] == total => {
                ticked_after = Some(tally["breakdown_at"].clone());
                app.next_breakdown();
            }
            None => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the tally stayed at {tally}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

both_databases! {
    async fn small_locals_are_folded_into_other_in_the_json_the_stream_and_the_page(app: TestApp) {
        app.publish(PETITION, "by_local", 2).await;
        let (big, small) = (app.a_local_of(PETITION, 0).await, app.a_local_of(PETITION, 1).await);
        sign_and_confirm(&app, "a1@example.org", big, 0).await;
        sign_and_confirm(&app, "a2@example.org", big, 2).await;
        sign_and_confirm(&app, "b1@example.org", small, 4).await;

        let tally = tally_reaching(&app, 3).await;
        assert_eq!(tally["breakdown"], "by_local");
        let shown: Vec<i64> = tally["by_local"].as_array().unwrap().iter().map(|c| c["local_id"].as_i64().unwrap()).collect();
        assert_eq!(shown, [big], "one signer is too few to show: {tally}");
        assert_eq!(tally["by_local"][0]["count"], 2);
        assert_eq!(tally["other"], 1);
        assert_eq!(tally["by_union"], json!([]));

        let mut events = Events::open(&app, PETITION).await;
        let (_, snapshot) = events.next(WAIT).await;
        assert_eq!(snapshot["by_local"], tally["by_local"]);
        assert_eq!(snapshot["other"], 1);

        let html = page(&app, &format!("/c/{PETITION}")).await;
        assert!(html.contains(&format!("id=\"local-{big}\"")), "the big local has its row");
        assert!(!html.contains(&format!("id=\"local-{small}\"")), "the small local has none");
        assert!(html.contains("Other locals (fewer than 2 signers each)"));

        // A second signer brings the small local into view at the next tick, and
        // "other" empties.
        sign_and_confirm(&app, "b2@example.org", small, 6).await;
        let (name, delta) = events.next(WAIT).await;
        assert_eq!((name.as_str(), delta["total"].as_u64(), delta["by_local"].clone()), ("delta", Some(4), json!([])));
        app.next_breakdown();
        let (name, delta) = events.next(WAIT).await;
        assert_eq!(name, "delta");
        assert_eq!(delta["by_local"].as_array().unwrap().len(), 1, "{delta}");
        assert_eq!(delta["by_local"][0]["local_id"], small);
        assert_eq!(delta["by_local"][0]["count"], 2);
        assert_eq!(delta["other"], 0);
        app.finish().await;
    }

    async fn a_campaign_showing_its_total_only_shows_nothing_else(app: TestApp) {
        app.publish(PETITION, "total_only", 1).await;
        let local = app.a_local_of(PETITION, 0).await;
        sign_and_confirm(&app, "t1@example.org", local, 0).await;
        let mut supporter = json!({"given_name": "Ada", "family_name": "Byron", "email": "t2@example.org"});
        supporter["local_id"] = Value::Null;
        sign_and_confirm_as(&app, supporter, 2).await;

        let tally = tally_reaching(&app, 2).await;
        assert_eq!((tally["by_local"].clone(), tally["by_union"].clone()), (json!([]), json!([])));
        assert_eq!((tally["other"].clone(), tally["community_supporters"].clone()), (json!(0), json!(0)));
        let mut events = Events::open(&app, PETITION).await;
        let (_, snapshot) = events.next(WAIT).await;
        assert_eq!(snapshot["by_local"], json!([]));
        assert_eq!(snapshot["community_supporters"], 0);
        let html = page(&app, &format!("/c/{PETITION}")).await;
        assert!(!html.contains("id=\"breakdown\""), "no breakdown table");
        assert!(!html.contains(&format!("id=\"local-{local}\"")));
        app.finish().await;
    }

    async fn by_union_sums_the_locals_and_folds_small_unions(app: TestApp) {
        app.publish(PETITION, "by_union", 2).await;
        let campaign: Value = app.http.get(app.url(&format!("/api/v1/campaigns/{PETITION}"))).send().await.unwrap().json().await.unwrap();
        let locals = campaign["locals"].as_array().unwrap();
        let union_of = |l: &Value| l["union"].as_str().unwrap().to_owned();
        let first = &locals[0];
        let sibling = locals.iter().find(|l| union_of(l) == union_of(first) && l["id"] != first["id"]).expect("a union with two locals");
        let stranger = locals.iter().find(|l| union_of(l) != union_of(first)).expect("a second union");
        sign_and_confirm(&app, "u1@example.org", first["id"].as_i64().unwrap(), 0).await;
        sign_and_confirm(&app, "u2@example.org", sibling["id"].as_i64().unwrap(), 2).await;
        sign_and_confirm(&app, "u3@example.org", stranger["id"].as_i64().unwrap(), 4).await;

        let tally = tally_reaching(&app, 3).await;
        assert_eq!(tally["by_union"].as_array().unwrap().len(), 1, "{tally}");
        assert_eq!(tally["by_union"][0]["union"], union_of(first));
        assert_eq!(tally["by_union"][0]["count"], 2, "two locals of one union add up");
        assert_eq!(tally["other"], 1);
        assert_eq!(tally["by_local"], json!([]), "no local shown on its own");
        let html = page(&app, &format!("/c/{PETITION}")).await;
        assert!(html.contains(&format!("id=\"union-{}\"", union_of(first))));
        assert!(!html.contains(&format!("id=\"union-{}\"", union_of(stranger))));
        app.finish().await;
    }

    async fn only_signers_who_chose_it_are_named_in_public(app: TestApp) {
        app.publish(PETITION, "by_local", 5).await;
        let local = app.a_local_of(PETITION, 0).await;
        let person = |given: &str, email: &str, show: bool| json!({
            "given_name": given, "family_name": "Parsons", "email": email, "local_id": local, "show_name": show,
        });
        sign_and_confirm_as(&app, person("Lucy", "lucy@example.org", true), 0).await;
        sign_and_confirm_as(&app, person("Albert", "albert@example.org", false), 2).await;
        // Shown but never confirmed: not listed.
        assert_eq!(app.sign_json(PETITION, person("Pending", "pending@example.org", true)).await.status(), 202);
        app.wait_for_mails(5, WAIT).await;

        let names: Value = app.http.get(app.url(&format!("/api/v1/campaigns/{PETITION}/signers"))).send().await.unwrap().json().await.unwrap();
        let local_label = names["names"][0]["group"].as_str().unwrap_or_default().to_owned();
        assert_eq!(names["names"].as_array().unwrap().len(), 1, "{names}");
        assert_eq!(names["names"][0]["name"], "Lucy P.");
        assert!(local_label.contains("Local"), "the local is named: {names}");
        assert_eq!(names["next"], Value::Null);

        let html = page(&app, &format!("/c/{PETITION}")).await;
        assert!(html.contains("Lucy P."));
        assert!(!html.contains("Albert") && !html.contains("Pending"), "nobody else is named");
        let all = page(&app, &format!("/c/{PETITION}/signers")).await;
        assert!(all.contains("Lucy P.") && !all.contains("Albert"));

        let bad = app.http.get(app.url(&format!("/api/v1/campaigns/{PETITION}/signers?before=nonsense"))).send().await.unwrap();
        assert_eq!(bad.status(), 400);
        app.finish().await;
    }

    async fn names_come_a_page_at_a_time_newest_first(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        let campaign_id = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PETITION}'")).await;
        let text_id = app.count(&format!("SELECT MAX(id) FROM campaign_texts WHERE campaign_id = {campaign_id}")).await;
        // Thirty confirmed signers who chose to be named, one second apart.
        for i in 0..30 {
            let uuid = uuid::Uuid::now_v7();
            // SQLite keeps a UUID as 16 bytes, PostgreSQL as its own type.
            let id = match app.db.get_database_backend() {
                sea_orm::DbBackend::Sqlite => format!("X'{}'", uuid.simple()),
                _ => format!("'{uuid}'"),
            };
            let at = format!("2026-11-26T10:00:{i:02}+00:00");
            app.exec(&format!(
                "INSERT INTO signatures (id, campaign_id, local_id, given_name, family_name, email, canonical_email, language, text_id, show_name, status, created_at, confirmed_at) \
                 VALUES ({id}, {campaign_id}, {local}, 'Signer{i:02}', 'Doe', 's{i}@example.org', 's{i}@example.org', 'en', {text_id}, TRUE, 'confirmed', '{at}', '{at}')"
            )).await;
        }
        let url = app.url(&format!("/api/v1/campaigns/{PETITION}/signers"));
        let first: Value = app.http.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(first["names"].as_array().unwrap().len(), 25);
        assert_eq!(first["names"][0]["name"], "Signer29 D.", "newest first");
        let next = first["next"].as_str().expect("a second page").to_owned();
        let second: Value = app.http.get(&url).query(&[("before", &next)]).send().await.unwrap().json().await.unwrap();
        let names: Vec<&str> = second["names"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Signer04 D.", "Signer03 D.", "Signer02 D.", "Signer01 D.", "Signer00 D."]);
        assert_eq!(second["next"], Value::Null);
        app.finish().await;
    }

    async fn only_the_embed_may_be_framed(app: TestApp) {
        let embed = app.http.get(app.url(&format!("/embed/{PETITION}"))).send().await.unwrap();
        assert_eq!(embed.status(), 200);
        assert!(embed.headers().get("x-frame-options").is_none());
        let policy = embed.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(policy.ends_with("; frame-ancestors *"), "{policy}");
        let html = embed.text().await.unwrap();
        assert!(html.contains("data-testid=\"tally-total\""), "a live counter");
        assert!(html.contains(&format!("/c/{PETITION}\" target=\"_blank\"")), "a sign button that opens the campaign");
        assert!(!html.contains("<header"), "nothing but the counter");

        let campaign = app.http.get(app.url(&format!("/c/{PETITION}"))).send().await.unwrap();
        assert_eq!(campaign.headers()["x-frame-options"], "DENY");
        let policy = campaign.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(policy.ends_with("; frame-ancestors 'none'"), "{policy}");
        // Scripts run only with this response's nonce, which the hydration script carries.
        let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_owned();
        let html = campaign.text().await.unwrap();
        assert!(html.contains(&format!("/embed/{PETITION}")), "the page offers the snippet");
        for script in html.split("<script").skip(1) {
            assert!(script.starts_with(&format!(" type=\"module\" nonce=\"{nonce}\"")) || script.contains(&format!("nonce=\"{nonce}\"")), "every inline script carries the nonce: <script{}", &script[..80.min(script.len())]);
        }
        // So does the one inline style sheet, which the policy lets in by the same nonce.
        assert!(policy.contains(&format!("style-src 'self' 'nonce-{nonce}'")), "{policy}");
        let styles: Vec<&str> = html.split("<style").skip(1).collect();
        assert_eq!(styles.len(), 1);
        assert!(styles[0].starts_with(&format!(" nonce=\"{nonce}\">")), "<style{}", &styles[0][..40]);
        app.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_in_one_process_reaches_the_subscribers_of_another() {
    let mut app = TestApp::spawn(Backend::Postgres).await;
    app.publish(PETITION, "by_local", 1).await;
    let other = app.another_process().await;
    let local = app.a_local_of(PETITION, 0).await;
    let mut events = Events::open_at(&app, &other, PETITION).await;
    let (_, snapshot) = events.next(WAIT).await;
    assert_eq!(snapshot["total"], 0);

    // Signed and confirmed through the first process only.
    sign_and_confirm(&app, "elsewhere@example.org", local, 0).await;
    let started = std::time::Instant::now();
    let (name, delta) = events.next(Duration::from_secs(1)).await;
    eprintln!(
        "the other process delivered the delta {:?} after the confirmation",
        started.elapsed()
    );
    assert_eq!(name, "delta");
    assert_eq!(delta["total"], 1);
    app.next_breakdown();
    let (_, ticked) = events.next(WAIT).await;
    assert_eq!(ticked["by_local"][0]["local_id"], local, "{ticked}");
    app.finish().await;
}
