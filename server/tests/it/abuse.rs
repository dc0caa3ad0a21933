//! Abuse resistance: per-address limits, who the client is, per-mailbox mail limits
//! across processes, bots, cross-site posts, slow clients, blocks and invalidation.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_databases;
use crate::harness::{Backend, TestApp};

const PETITION: &str = "joint-statement-demo";
const WAIT: Duration = Duration::from_secs(15);

fn signer(local: i64, email: &str) -> Value {
    json!({"given_name": "Ana", "family_name": "Ruiz", "email": email, "local_id": local})
}

/// An HTTP client whose connections come from another loopback address.
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_from(
    app: &TestApp,
    client: &reqwest::Client,
    body: Value,
    forwarded: Option<&str>,
) -> reqwest::Response {
    let mut request = client
        .post(app.url(&format!("/api/v1/campaigns/{PETITION}/signatures")))
        .bearer_auth(&app.partner_key)
        .json(&body);
    if let Some(forwarded) = forwarded {
        request = request.header("X-Forwarded-For", forwarded);
    }
    request.send().await.unwrap()
}

fn few_signs(settings: &mut server::Settings) {
    settings.sign_burst = 3;
    settings.sign_per_hour = 3;
}

both_databases! {
    async fn a_flood_from_one_address_is_refused_while_another_signs(app: TestApp) with(few_signs) {
        let local = app.a_local_of(PETITION, 0).await;
        let flood = client_from("127.0.0.1");
        for i in 0..3 {
            assert_eq!(sign_from(&app, &flood, signer(local, &format!("f{i}@example.org")), None).await.status(), 202);
        }
        let refused = sign_from(&app, &flood, signer(local, "f3@example.org"), None).await;
        assert_eq!(refused.status(), 429);
        let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=1200).contains(&wait), "Retry-After {wait}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "rate_limited");
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 3, "nothing written");

        let neighbour = client_from("127.0.0.2");
        assert_eq!(sign_from(&app, &neighbour, signer(local, "n@example.org"), None).await.status(), 202);

        // A person posting the page's form without JavaScript gets a page, not JSON.
        let page = flood.post(app.url("/api/sign")).header("Accept", "text/html")
            .form(&[("slug", PETITION)]).send().await.unwrap();
        assert_eq!(page.status(), 429);
        assert!(page.text().await.unwrap().contains("Please wait a moment"));
        // In the signer's language, as the rest of the site.
        let page = flood.post(app.url("/api/sign")).header("Accept", "text/html").header("Accept-Language", "es")
            .form(&[("slug", PETITION)]).send().await.unwrap();
        assert_eq!(page.status(), 429);
        let page = page.text().await.unwrap();
        assert!(page.contains("<html lang=\"es\"") && page.contains("No se guardó nada."), "{page}");

        // Retry-After tells the truth: when it has passed, one more goes through, and only one.
        app.advance(Duration::from_secs(wait));
        assert_eq!(sign_from(&app, &flood, signer(local, "f4@example.org"), None).await.status(), 202, "after the wait");
        assert_eq!(sign_from(&app, &flood, signer(local, "f5@example.org"), None).await.status(), 429, "then waits again");
        app.finish().await;
    }

    async fn forged_forwarded_for_headers_share_the_peers_bucket(app: TestApp) with(few_signs) {
        let local = app.a_local_of(PETITION, 0).await;
        let client = client_from("127.0.0.1");
        let mut statuses = Vec::new();
        for i in 0..5 {
            let forged = format!("198.51.100.{i}");
            statuses.push(sign_from(&app, &client, signer(local, &format!("x{i}@example.org")), Some(&forged)).await.status().as_u16());
        }
        assert_eq!(statuses, [202, 202, 202, 429, 429], "an untrusted peer's header is not believed");
        app.finish().await;
    }

    async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(app: TestApp) with(|s: &mut server::Settings| {
            few_signs(s);
            s.trusted_proxies = vec!["127.0.0.1".into()];
        }) {
        let local = app.a_local_of(PETITION, 0).await;
        let proxy = client_from("127.0.0.1");
        for i in 0..5 {
            let client = format!("1.2.3.4, 198.51.100.{i}");
            assert_eq!(sign_from(&app, &proxy, signer(local, &format!("p{i}@example.org")), Some(&client)).await.status(), 202);
        }
        // The address kept for review is the client's, not the proxy's or the forged one.
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE ip LIKE '198.51.100.%'").await, 5);
        app.finish().await;
    }

    async fn one_mailbox_gets_a_few_mails_an_hour_across_processes(app: TestApp) with(|s: &mut server::Settings| {
            s.mails_per_mailbox_per_hour = 3;
            s.sign_burst = 1000;
        }) {
        let mut app = app;
        let other = app.another_process().await;
        let local = app.a_local_of(PETITION, 0).await;
        let client = reqwest::Client::new();
        for i in 0..100 {
            let base = if i % 2 == 0 { app.url("") } else { other.clone() };
            // Aliases of one gmail mailbox: one signer, one mailbox.
            let email = format!("ann.lee+{i}@gmail.com");
            let response = client.post(format!("{base}/api/v1/campaigns/{PETITION}/signatures"))
                .bearer_auth(&app.partner_key).json(&signer(local, &email)).send().await.unwrap();
            assert_eq!(response.status(), 202, "the answer never changes");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 1, "aliases are one signature");
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 3, "three mails, not a hundred");
        app.wait_for_mails(3, WAIT).await;
        // Each mail's link stands for its own request; the last one sent works too.
        let link = app.smtp.messages()[2].link("/v/").unwrap();
        assert_eq!(app.press_confirm(&link).await.status(), 302);
        app.finish().await;
    }

    async fn a_honeypot_or_a_hasty_form_is_answered_as_accepted_and_writes_nothing(app: TestApp) with(|s: &mut server::Settings| s.form_min_seconds = 2) {
        let local = app.a_local_of(PETITION, 0).await;
        let stamp = app.form_stamp(PETITION).await;
        let post = |extra: Vec<(&'static str, String)>| {
            let mut fields = vec![
                ("slug", PETITION.to_owned()), ("given_name", "Bo".to_owned()), ("family_name", "Tt".to_owned()),
                ("email", "bot@example.org".to_owned()), ("local_id", local.to_string()),
            ];
            fields.extend(extra);
            app.http.post(app.url("/api/sign")).header("Accept", "text/html").form(&fields).send()
        };
        let thanks = format!("/c/{PETITION}/thanks");
        // At once: faster than anyone types.
        let hasty = post(vec![("stamp", stamp.clone())]).await.unwrap();
        assert_eq!(hasty.headers()["location"], thanks);
        // No stamp, or one we did not sign.
        assert_eq!(post(vec![]).await.unwrap().headers()["location"], thanks);
        assert_eq!(post(vec![("stamp", "1700000000000.AAAA".into())]).await.unwrap().headers()["location"], thanks);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        // In time, but the hidden field is filled.
        let honeypot = post(vec![("stamp", stamp.clone()), ("website", "http://spam.example".into())]).await.unwrap();
        assert_eq!(honeypot.headers()["location"], thanks);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
        // A person, in time, with the field empty.
        assert_eq!(post(vec![("stamp", stamp)]).await.unwrap().headers()["location"], thanks);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 1);
        app.finish().await;
    }

    async fn a_cross_site_form_post_is_refused(app: TestApp) {
        let local = app.a_local_of(PETITION, 0).await;
        let stamp = app.form_stamp(PETITION).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let fields = [("slug", PETITION.to_owned()), ("given_name", "Eve".to_owned()), ("family_name", "X".to_owned()),
            ("email", "eve@example.org".to_owned()), ("local_id", local.to_string()), ("stamp", stamp)];
        let from_elsewhere = app.http.post(app.url("/api/sign")).header("Origin", "https://evil.example").form(&fields).send().await.unwrap();
        assert_eq!(from_elsewhere.status(), 403);
        let fetched = app.http.post(app.url("/api/sign")).header("Sec-Fetch-Site", "cross-site").form(&fields).send().await.unwrap();
        assert_eq!(fetched.status(), 403);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 0);
        let own = app.http.post(app.url("/api/sign")).header("Accept", "text/html").header("Origin", app.url("")).header("Sec-Fetch-Site", "same-origin").form(&fields).send().await.unwrap();
        assert_eq!(own.status(), 302);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 1);
        app.finish().await;
    }

    async fn blocked_domains_are_told_and_blocked_networks_are_dropped(app: TestApp) with(|s: &mut server::Settings| s.trusted_proxies = vec!["127.0.0.1".into()]) {
        let entry = rollcall::abuse::blocks::Entry { reason: "disposable", by: "test", at: chrono::Utc::now() };
        rollcall::abuse::blocks::block_domains(&app.db, ["mailinator.com  # a throwaway service"], &entry).await.unwrap();
        rollcall::abuse::blocks::block_network(&app.db, "203.0.113.0/24", &entry).await.unwrap();
        let local = app.a_local_of(PETITION, 0).await;
        let client = reqwest::Client::new();
        let refused = sign_from(&app, &client, signer(local, "someone@mailinator.com"), None).await;
        assert_eq!(refused.status(), 422);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["fields"][0]["problem"], "not_accepted", "{body}");
        let dropped = sign_from(&app, &client, signer(local, "spam@example.org"), Some("203.0.113.9")).await;
        assert_eq!(dropped.status(), 202, "looks accepted");
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 0);
        let fine = sign_from(&app, &client, signer(local, "fine@example.org"), Some("198.51.100.1")).await;
        assert_eq!(fine.status(), 202);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 1);
        app.finish().await;
    }

    async fn an_invalidation_by_filter_corrects_the_tallies_to_the_recount(app: TestApp) with(|s: &mut server::Settings| s.trusted_proxies = vec!["127.0.0.1".into()]) {
        let (one, two) = (app.a_local_of(PETITION, 0).await, app.a_local_of(PETITION, 1).await);
        let client = reqwest::Client::new();
        let signed = [(one, "203.0.113.5", "a@example.org"), (two, "203.0.113.6", "b@example.org"), (one, "198.51.100.7", "c@example.org"), (two, "203.0.113.7", "pending@example.org")];
        for (i, (local, ip, email)) in signed.iter().enumerate() {
            assert_eq!(sign_from(&app, &client, signer(*local, email), Some(ip)).await.status(), 202);
            if i < 3 {
                let link = app.wait_for_mails(2 * i + 1, WAIT).await[2 * i].link("/v/").unwrap();
                assert_eq!(app.press_confirm(&link).await.status(), 302);
                app.wait_for_mails(2 * i + 2, WAIT).await;
            }
        }
        assert_eq!(app.tally(PETITION).await["total"], 3);
        let filter = rollcall::organizing::invalidating::Filter {
            campaign: PETITION.into(),
            network: Some(rollcall::abuse::client::parse_network("203.0.113.0/24").unwrap()),
            ..Default::default()
        };
        let preview = rollcall::organizing::invalidating::preview(&app.db, &filter).await.unwrap();
        assert_eq!((preview.confirmed, preview.pending), (2, 1));
        assert_eq!(app.tally(PETITION).await["total"], 3, "a preview changes nothing");
        let unnamed = rollcall::organizing::invalidating::invalidate(&app.db, &filter, "", "", chrono::Utc::now()).await;
        assert!(unnamed.is_err(), "who and why are required");

        let done = rollcall::organizing::invalidating::invalidate(&app.db, &filter, "Organizer Olga", "a script from one hosting range", chrono::Utc::now()).await.unwrap();
        assert_eq!((done.matched.confirmed, done.matched.pending), (2, 1));
        let tally = app.tally(PETITION).await;
        assert_eq!(tally["total"], 1);
        assert_eq!(tally["by_local"], json!([{"local_id": one, "count": 1}]));
        let campaign_id = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PETITION}'")).await;
        assert!(rollcall::store::tally::recount(&app.db, campaign_id).await.unwrap().matches());
        app.wait_for_mails(7, WAIT).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE status = 'invalidated' AND invalidated_at IS NOT NULL").await, 3);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE actor = 'Organizer Olga' AND action = 'invalidate_signatures' AND reason LIKE 'a script%'").await, 1);
        // The pending signature's link no longer works.
        let pending_link = app.smtp.messages().iter().find(|m| m.to.contains("pending@")).and_then(|m| m.link("/v/")).unwrap();
        assert_eq!(app.press_confirm(&pending_link).await.status(), 302);
        assert_eq!(app.tally(PETITION).await["total"], 1);
        app.finish().await;
    }

    async fn a_slow_client_is_cut_off_while_a_stream_subscriber_is_not(app: TestApp) with(|s: &mut server::Settings| s.header_timeout_secs = 1) {
        let local = app.a_local_of(PETITION, 0).await;
        let mut stream = app.http.get(app.url(&format!("/api/v1/campaigns/{PETITION}/tally/stream"))).send().await.unwrap();
        let first = stream.chunk().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("snapshot"));

        let addr = app.url("").trim_start_matches("http://").to_owned();
        let mut trickle = tokio::net::TcpStream::connect(&addr).await.unwrap();
        trickle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // Ones that could still be either protocol, then say no more.
        let mut undecided = tokio::net::TcpStream::connect(&addr).await.unwrap();
        undecided.write_all(b"P").await.unwrap();
        let mut half_preface = tokio::net::TcpStream::connect(&addr).await.unwrap();
        half_preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
        let started = Instant::now();
        for connection in [&mut trickle, &mut silent, &mut undecided, &mut half_preface] {
            let mut buffer = [0u8; 512];
            let read = tokio::time::timeout(Duration::from_secs(10), connection.read(&mut buffer)).await.expect("the server ends the connection");
            assert!(matches!(read, Ok(0) | Err(_)) || String::from_utf8_lossy(&buffer).contains("408"), "closed, not answered");
        }
        eprintln!("slow connections cut after {:?}", started.elapsed());

        // The stream outlived them and still delivers.
        assert_eq!(app.sign_json(PETITION, signer(local, "live@example.org")).await.status(), 202);
        let link = app.wait_for_mails(1, WAIT).await[0].link("/v/").unwrap();
        assert_eq!(app.press_confirm(&link).await.status(), 302);
        let delta = tokio::time::timeout(WAIT, async {
            loop {
                let chunk = stream.chunk().await.unwrap().expect("the stream stays open");
                let text = String::from_utf8_lossy(&chunk).into_owned();
                if text.contains("event: delta") {
                    return text;
                }
            }
        }).await.expect("a delta");
        assert!(delta.contains("\"total\":1"), "{delta}");
        app.finish().await;
    }

    async fn either_version_is_served_however_its_first_bytes_arrive(app: TestApp) {
        // HTTP/2 with prior knowledge, as a proxy in front may speak it, live stream included.
        let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
        let tally = h2.get(app.url(&format!("/api/v1/campaigns/{PETITION}/tally"))).send().await.unwrap();
        assert_eq!((tally.version(), tally.status().as_u16()), (reqwest::Version::HTTP_2, 200));
        let mut stream = h2.get(app.url(&format!("/api/v1/campaigns/{PETITION}/tally/stream"))).send().await.unwrap();
        assert_eq!(stream.version(), reqwest::Version::HTTP_2);
        assert!(String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()).contains("snapshot"));

        // HTTP/1.1 whose first byte comes alone: one that cannot begin HTTP/2's preface,
        // and one that can (`P`), and a request after it on the same connection.
        let addr = app.url("").trim_start_matches("http://").to_owned();
        for (first, rest, status) in [("G", "ET", "200"), ("P", "UT", "405")] {
            let mut connection = tokio::net::TcpStream::connect(&addr).await.unwrap();
            connection.write_all(first.as_bytes()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let requests = format!("{rest} /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            connection.write_all(requests.as_bytes()).await.unwrap();
            let mut answer = String::new();
            tokio::time::timeout(WAIT, connection.read_to_string(&mut answer)).await.unwrap().unwrap();
            // The first body ("ok", or none) runs straight into the second status line.
            let statuses: Vec<&str> = answer.match_indices("HTTP/1.1 ").map(|(at, _)| &answer[at + 9..at + 12]).collect();
            assert_eq!(statuses, [status, "200"], "{first}{rest}: {answer}");
        }

        // HTTP/2's preface with its first byte alone: the server answers with its own
        // settings (a frame of type 4).
        let mut connection = tokio::net::TcpStream::connect(&addr).await.unwrap();
        connection.write_all(b"P").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        connection.write_all(b"RI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await.unwrap();
        let mut frame = [0u8; 9];
        tokio::time::timeout(WAIT, connection.read_exact(&mut frame)).await.unwrap().unwrap();
        assert_eq!(frame[3], 4, "{frame:?}");
        // Closed here: a peer that never answers the server's pings holds up its drain
        // until the HTTP/2 keep-alive gives up on it.
        drop(connection);
        app.finish().await;
    }
}
