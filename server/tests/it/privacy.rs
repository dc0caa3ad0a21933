//! Signer safety, each test written as the attack it stops: an open campaign's privacy
//! only gets stricter; headers, images and forwarded hops give an outsider nothing.

use crate::both_databases;
use crate::harness::{Backend, TestApp};

const PETITION: &str = "joint-statement-demo";

/// Runs `rollcall` on the test's database: (success, stdout, stderr).
fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["--config", "/nonexistent.toml"])
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the command line runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Imports `text` as a campaign file through the command line.
fn import(app: &TestApp, text: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("campaign.toml");
    std::fs::write(&path, text).unwrap();
    cli(app, &["campaign", "import", path.to_str().unwrap()])
}

async fn privacy_of(app: &TestApp) -> (i64, String, i64) {
    let campaign = rollcall::store::campaigns::by_slug(&app.db, PETITION)
        .await
        .unwrap()
        .unwrap();
    (
        campaign.smallest_group.into(),
        campaign.public_breakdown.to_string(),
        campaign.retention_days.into(),
    )
}

both_databases! {
    async fn reimporting_an_open_campaign_with_a_smaller_group_is_refused_naming_the_key(app: TestApp) {
        let original = server::demo::CAMPAIGNS[0];
        assert!(original.contains("status = \"open\"") && original.contains("smallest_group = 5"));
        let before = privacy_of(&app).await;
        let audits = app.count("SELECT COUNT(*) FROM audit_log").await;

        let (ok, _, err) = import(&app, &original.replacen("smallest_group = 5", "smallest_group = 1", 1));
        assert!(!ok, "the weaker file is refused");
        assert!(err.contains("smallest_group may only grow once a campaign has opened (5 -> 1)"), "{err}");
        let (ok, _, err) = import(&app, &original.replacen("public_breakdown = \"by_union\"", "public_breakdown = \"by_local\"", 1));
        assert!(!ok);
        assert!(err.contains("public_breakdown"), "{err}");
        let (ok, _, err) = import(&app, &original.replacen("smallest_group = 5", "smallest_group = 5\nretention_days = 3650", 1));
        assert!(!ok);
        assert!(err.contains("retention_days may only shrink"), "{err}");
        assert_eq!(privacy_of(&app).await, before, "nothing changed");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audits, "nothing was written");

        // The editor runs the same rule.
        let admin = rollcall::accounts::access::Caller::Key { id: 0, grant: rollcall::domain::Grant::Admin };
        let mut file = rollcall::organizing::import::campaign_file(original).unwrap();
        file.smallest_group = Some(2);
        let err = rollcall::organizing::editing::save(&app.db, &admin, file, chrono::Utc::now()).await.unwrap_err();
        assert!(err.to_string().contains("smallest_group may only grow once a campaign has opened (5 -> 2)"), "{err}");
        assert_eq!(privacy_of(&app).await, before);
        app.finish().await;
    }

    async fn stricter_privacy_on_an_open_campaign_goes_through_and_is_audited(app: TestApp) {
        let original = server::demo::CAMPAIGNS[0];
        let stricter = original
            .replacen("smallest_group = 5", "smallest_group = 10\nretention_days = 30", 1)
            .replacen("public_breakdown = \"by_union\"", "public_breakdown = \"total_only\"", 1);
        let (ok, _, err) = import(&app, &stricter);
        assert!(ok, "{err}");
        assert_eq!(privacy_of(&app).await, (10, "total_only".to_owned(), 30));
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.privacy_stricter' \
            AND actor = 'command line' AND details LIKE '%\"key\":\"smallest_group\"%' \
            AND details LIKE '%\"key\":\"public_breakdown\"%' AND details LIKE '%\"key\":\"retention_days\"%' \
            AND campaign_id = (SELECT id FROM campaigns WHERE slug = 'joint-statement-demo')").await, 1);
        // The same file again changes nothing, so nothing more is audited; the old,
        // weaker file is now refused.
        let (ok, _, err) = import(&app, &stricter);
        assert!(ok, "{err}");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.privacy_stricter'").await, 1);
        let (ok, _, err) = import(&app, original);
        assert!(!ok);
        assert!(err.contains("smallest_group may only grow once a campaign has opened (10 -> 5)"), "{err}");
        app.finish().await;
    }

    async fn a_draft_campaign_may_still_loosen_its_privacy(app: TestApp) {
        let draft = server::demo::CAMPAIGNS[0]
            .replacen("slug = \"joint-statement-demo\"", "slug = \"draft-statement\"", 1)
            .replacen("status = \"open\"", "status = \"draft\"", 1);
        let (ok, _, err) = import(&app, &draft);
        assert!(ok, "{err}");
        let (ok, _, err) = import(&app, &draft.replacen("smallest_group = 5", "smallest_group = 1", 1));
        assert!(ok, "before it opens, nobody signed under the settings: {err}");
        app.finish().await;
    }
}

/// A real SMTP server on loopback that refuses every recipient for good (550), as a
/// relay does for an address it will never take; returns its port.
fn refusing_smtp_server() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let _ = writer.write_all(b"220 refuser ESMTP\r\n");
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    let command = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match command.as_str() {
                        "RCPT" => b"550 5.1.1 mailbox unavailable\r\n",
                        "QUIT" => b"221 bye\r\n",
                        _ => b"250 ok\r\n",
                    };
                    if writer.write_all(answer).is_err() || command == "QUIT" {
                        break;
                    }
                    line.clear();
                }
            });
        }
    });
    port
}

both_databases! {
    async fn hsts_is_sent_over_plain_http_when_the_public_url_is_https(app: TestApp) with(|s: &mut server::Settings| s.public_url = "https://rollcall.example".into()) {
        // TLS ends at the proxy: the request itself comes over plain HTTP.
        for path in ["/healthz", "/c/joint-statement-demo", "/no-such-page", "/api/v1/campaigns/no-such/tally"] {
            let response = app.http.get(app.url(path)).send().await.unwrap();
            assert_eq!(
                response.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned()),
                Some("max-age=31536000".to_owned()),
                "{path} ({})", response.status()
            );
        }
        app.finish().await;
    }

    async fn a_remote_image_in_the_campaign_text_reaches_no_page_and_no_receipt(app: TestApp) {
        let original = server::demo::CAMPAIGNS[0];
        let with_images = original.replacen(
            "## Our joint statement",
            "## Our joint statement\n\n![x](https://evil.example/p.png) <img src=\"https://evil.example/q.png\">",
            1,
        );
        assert_ne!(original, with_images);
        rollcall::organizing::import::import_campaign(&app.db, &with_images, chrono::Utc::now()).await.unwrap();
        let page = app.http.get(app.url(&format!("/c/{PETITION}"))).send().await.unwrap();
        assert!(page.headers().get("strict-transport-security").is_none(), "no HSTS for a site on http");
        let page = page.text().await.unwrap();
        assert!(page.contains("Our joint statement"), "the new text is shown");
        assert!(!page.contains("evil.example"), "no remote image on the page");

        let local = app.a_local_of(PETITION, 3).await;
        let signer = serde_json::json!({"given_name": "Ana", "family_name": "Ruiz", "email": "ana.ruiz@example.org", "local_id": local});
        assert_eq!(app.sign_json(PETITION, signer).await.status(), 202);
        let mails = app.wait_for_mails(1, std::time::Duration::from_secs(15)).await;
        let link = mails[0].link("/v/").expect("a confirmation link");
        app.press_confirm(&link).await;
        let mails = app.wait_for_mails(2, std::time::Duration::from_secs(15)).await;
        let receipt = &mails[1];
        assert!(receipt.html.contains("Our joint statement"), "the receipt carries the text");
        assert!(!receipt.html.contains("evil.example") && !receipt.text.contains("evil.example"), "no remote image in the receipt");

        // Sent, the two mails leave nothing in the outbox that says who signed.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while app.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").await < 2 {
            assert!(std::time::Instant::now() < deadline, "the mails were never recorded as sent");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE recipient <> '' OR body_text IS NOT NULL OR body_html IS NOT NULL").await, 0, "no recipient, no body");
        app.finish().await;
    }

    async fn a_forged_garbage_forwarded_hop_does_not_use_up_the_proxys_allowance(app: TestApp) with(|s: &mut server::Settings| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.sign_in_burst = 2;
        s.sign_in_per_hour = 1;
    }) {
        let sign_in = |forwarded: Option<&'static str>, referer: String| {
            let mut request = app.http.post(app.url("/api/sign_in"))
                .header("Accept", "text/html")
                .header("Referer", referer)
                .form(&[("email", "nobody@example.org"), ("password", "wrong password here")]);
            if let Some(hop) = forwarded {
                request = request.header("X-Forwarded-For", hop);
            }
            request.send()
        };
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(sign_in(Some("nonsense"), app.url("/sign-in")).await.unwrap().status().as_u16());
        }
        assert_eq!(statuses[2], 429, "the garbage hop has an allowance of its own: {statuses:?}");
        // Its "please wait" page links back only to a path on this site.
        let busy = sign_in(Some("nonsense"), app.url("//evil.example/")).await.unwrap();
        assert_eq!(busy.status(), 429);
        let busy = busy.text().await.unwrap();
        assert!(!busy.contains("evil.example"), "{busy}");
        // Everyone else behind the proxy, and the proxy itself, still get in.
        assert_ne!(sign_in(None, app.url("/sign-in")).await.unwrap().status(), 429, "the proxy's own allowance is untouched");
        assert_ne!(sign_in(Some("203.0.113.9"), app.url("/sign-in")).await.unwrap().status(), 429);
        assert_ne!(sign_in(Some("other-nonsense"), app.url("/sign-in")).await.unwrap().status(), 429, "other garbage, another client");
        app.finish().await;
    }

    async fn one_address_cannot_hold_more_live_streams_than_its_cap(app: TestApp) with(|s: &mut server::Settings| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.streams_per_client = 2;
    }) {
        let url = app.url(&format!("/api/v1/campaigns/{PETITION}/tally/stream"));
        let open = |hop: &'static str| app.http.get(&url).header("X-Forwarded-For", hop).send();
        let first = open("203.0.113.1").await.unwrap();
        let second = open("203.0.113.1").await.unwrap();
        assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
        let third = open("203.0.113.1").await.unwrap();
        assert_eq!(third.status(), 429, "over the cap");
        assert!(third.headers().contains_key("retry-after"));
        let other = open("203.0.113.2").await.unwrap();
        assert_eq!(other.status(), 200, "another address is still served");
        drop((first, second, other));
        app.finish().await;
    }

    async fn mail_refused_for_good_is_tried_a_few_times_then_marked_failed(app: TestApp) with(|s: &mut server::Settings| {
        s.mail_url = format!("smtp://127.0.0.1:{}", refusing_smtp_server());
    }) {
        let local = app.a_local_of(PETITION, 3).await;
        let signer = serde_json::json!({"given_name": "Ana", "family_name": "Ruiz", "email": "ana.ruiz@example.org", "local_id": local});
        assert_eq!(app.sign_json(PETITION, signer).await.status(), 202);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
        while app.count("SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL").await == 0 {
            assert!(std::time::Instant::now() < deadline, "the mail was never marked failed");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(
            app.count("SELECT CAST(attempts AS BIGINT) FROM outbox WHERE failed_at IS NOT NULL").await,
            i64::from(rollcall::mail::PERMANENT_TRIES)
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE recipient <> '' OR body_text IS NOT NULL OR body_html IS NOT NULL").await, 0, "a failed mail keeps no recipient or body");
        let (count, failed) = rollcall::mail::failed(&app.db, 10).await.unwrap();
        assert_eq!(count, 1);
        assert_eq!(failed[0].kind, "confirm");
        assert!(failed[0].last_error.contains("permanent"), "{:?}", failed[0]);
        // Admins see it on their account page, and not whom it was for.
        let admin = crate::accounts::signed_in(&app, "admin@example.org", rollcall::domain::Grant::Admin).await;
        let page = app.http.get(app.url("/account")).header("Cookie", &admin).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-testid=\"failed-mail\"") && page.contains("1 mail failed for good"), "{page}");
        assert!(!page.contains("ana.ruiz"));
        // It is not tried again.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        assert_eq!(app.count("SELECT CAST(attempts AS BIGINT) FROM outbox").await, i64::from(rollcall::mail::PERMANENT_TRIES));
        app.finish().await;
    }

    async fn connections_over_the_cap_are_answered_503_and_the_rest_still_served(app: TestApp) with(|s: &mut server::Settings| s.max_connections = Some(2)) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = app.base.trim_start_matches("http://").to_owned();
        let request = b"GET /healthz HTTP/1.1\r\nHost: rollcall\r\n\r\n";
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            stream.write_all(request).await.unwrap();
            let mut answer = [0u8; 512];
            let n = stream.read(&mut answer).await.unwrap();
            assert!(answer[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..n]));
            held.push(stream);
        }
        let mut over = tokio::net::TcpStream::connect(&address).await.unwrap();
        over.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), over.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer).to_lowercase();
        assert!(answer.starts_with("http/1.1 503") && answer.contains("retry-after: "), "{answer}");
        // One held connection leaves: the next is served.
        drop(held.pop());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            // Until the server has seen the held connection go, a new one is refused.
            let answer = app.http.get(app.url("/healthz")).send().await;
            if answer.as_ref().is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never served again: {answer:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        app.finish().await;
    }

    async fn an_http2_connection_that_never_sends_a_request_is_closed(app: TestApp) with(|s: &mut server::Settings| s.header_timeout_secs = 1) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = app.base.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        // The preface, empty SETTINGS and an ACK of the server's: then nothing.
        stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
        stream.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await.unwrap();
        let started = std::time::Instant::now();
        let mut sink = Vec::new();
        let closed = tokio::time::timeout(std::time::Duration::from_secs(8), stream.read_to_end(&mut sink)).await;
        assert!(closed.is_ok(), "the silent HTTP/2 connection was still open after 8 s");
        assert!(started.elapsed() >= std::time::Duration::from_millis(900), "not closed before its time");
        app.finish().await;
    }
}
