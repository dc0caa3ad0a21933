//! No officer action tells whether an address signed: each test is the attack, sent as
//! an officer would send it, and asserts that a signed address and a never-signed one
//! get the same answer. What an officer may not learn goes to the organizers' review
//! list and to the address's owner.

use rollcall::domain::Grant;

use crate::accounts::{PETITION, fixture, location, post_form, seed, signed_in};
use crate::both_databases;
use crate::harness::{Backend, TestApp};
use crate::pledges::{SLUG, campaign_id, open_pledge, seed_confirmed};

const SUBJECT: &str = "Your address was entered on a paper sheet";

async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    app.http
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// One paper line for `slug`, as the local page's form sends it.
async fn enter_line(app: &TestApp, officer: &str, local: i64, slug: &str, email: &str) -> String {
    let local = local.to_string();
    let response = post_form(
        app,
        "enter_paper",
        Some(officer),
        &[
            ("local_id", &local),
            ("slug", slug),
            ("given_name", "Pat"),
            ("family_name", "Probe"),
            ("email", email),
        ],
    )
    .await;
    location(&response)
}

async fn total(app: &TestApp, slug: &str) -> i64 {
    app.tally(slug).await["total"].as_i64().unwrap()
}

fn paper_mails(app: &TestApp) -> Vec<crate::harness::Mail> {
    app.smtp
        .messages()
        .into_iter()
        .filter(|m| m.subject == SUBJECT)
        .collect()
}

/// A member list of `addresses`, one a line under a header.
fn list_of(addresses: &[String]) -> String {
    std::iter::once("email".to_owned())
        .chain(addresses.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn made_up(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i}@example.net")).collect()
}

async fn upload(app: &TestApp, officer: &str, local: i64, addresses: &[String]) -> String {
    let local = local.to_string();
    let list = list_of(addresses);
    location(
        &post_form(
            app,
            "upload_member_list",
            Some(officer),
            &[("local_id", &local), ("list", &list)],
        )
        .await,
    )
}

/// The text of the element marked `testid` (up to its first tag).
fn marked(html: &str, testid: &str) -> String {
    html.split(&format!("data-testid=\"{testid}\">"))
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no {testid} in {html}"))
        .to_owned()
}

async fn verified(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM signatures WHERE verification = 'verified'")
        .await
}

both_databases! {
    async fn a_paper_line_answers_alike_for_an_address_that_signed_elsewhere_and_one_that_never_did(app: TestApp) {
        let f = fixture(&app).await;
        // The target signed in local B; the officer keeps local A.
        seed(&app, f.petition, Some(f.local_b), "Tara", "target@example.org", "confirmed").await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;

        // The attack: one line with the target's address, one with an address nobody used.
        let before = total(&app, PETITION).await;
        let signed = enter_line(&app, &officer, f.local_a, PETITION, "Target@Example.org").await;
        let after_signed = total(&app, PETITION).await;
        let never = enter_line(&app, &officer, f.local_a, PETITION, "nobody@example.org").await;
        let after_never = total(&app, PETITION).await;
        assert_eq!(signed, never, "the answers are the same");
        assert_eq!(signed, format!("/local/{}?entered=1", f.local_a));
        assert_eq!((after_signed - before, after_never - after_signed), (1, 1), "each counts, so the total tells nothing");
        // A sheet holding both answers with its count of lines, nothing more.
        let local = f.local_a.to_string();
        let sheet = "given_name,family_name,email\nPat,One,target@example.org\nPat,Two,fresh@example.org\n";
        let response = post_form(&app, "upload_paper", Some(&officer), &[("local_id", &local), ("slug", PETITION), ("sheet", sheet)]).await;
        assert_eq!(location(&response), format!("/local/{local}?entered=2"));

        // The officer's pages say nothing of it either.
        let local_page = page(&app, &format!("/local/{local}"), &officer).await;
        assert!(!local_page.contains("already"), "no word of an earlier signature");
        let campaign_page = page(&app, &format!("/account/c/{PETITION}"), &officer).await;
        assert!(!campaign_page.contains("paper-review"), "the review list is not the officer's");
        assert!(!campaign_page.contains("target@example.org"));

        // The organizer sees both collisions; the owner of the address is told, twice.
        let organizer = signed_in(&app, "org@example.org", Grant::CampaignOrganizer { campaign_id: f.petition }).await;
        let review = page(&app, &format!("/account/c/{PETITION}"), &organizer).await;
        assert!(review.contains("data-testid=\"paper-review\""), "{review}");
        assert_eq!(review.matches("data-testid=\"collision-").count(), 2);
        assert!(review.to_lowercase().contains("target@example.org"), "the organizer sees the address");
        let mails = {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let mails = paper_mails(&app);
                if mails.len() >= 2 || std::time::Instant::now() > deadline {
                    break mails;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        };
        assert_eq!(mails.len(), 2, "one mail per colliding line");
        assert!(mails.iter().all(|m| m.to.contains("target@example.org")), "to the address's owner only");
        assert!(!mails[0].subject.contains("UTW") && !mails[0].subject.contains("Local"), "no union or local on a lock screen");
        assert!(mails[0].text.contains("Tara"), "{}", mails[0].text);

        // The officer cannot resolve; the organizer removes one and keeps the other.
        let ids: Vec<i64> = {
            use sea_orm::{EntityTrait, QueryOrder};
            rollcall::entities::paper_collision::Entity::find()
                .order_by_asc(rollcall::entities::paper_collision::Column::Id)
                .all(&app.db).await.unwrap().into_iter().map(|c| c.id).collect()
        };
        let resolve = |cookie: String, id: i64, decision: &'static str| {
            let app = &app;
            async move {
                let id = id.to_string();
                location(&post_form(app, "resolve_collision", Some(&cookie), &[("slug", PETITION), ("collision_id", &id), ("decision", decision)]).await)
            }
        };
        assert_eq!(crate::accounts::refusal(&resolve(officer.clone(), ids[0], "remove").await), "Forbidden");
        assert_eq!(crate::accounts::refusal(&resolve(organizer.clone(), ids[0], "maybe").await), "Moderation", "a decision it does not know");
        let counted = total(&app, PETITION).await;
        let officer_count = || async { marked(&page(&app, &format!("/local/{local}"), &officer).await, "confirmed") };
        let officer_before = officer_count().await;
        assert_eq!(resolve(organizer.clone(), ids[0], "remove").await, format!("/account/c/{PETITION}?resolved=1"));
        // The officer who entered the line watches: nothing moves until the cadence ticks.
        assert_eq!(total(&app, PETITION).await, counted, "the public total waits for the tick");
        assert_eq!(officer_count().await, officer_before, "the officer's count waits too");
        assert_eq!(crate::accounts::refusal(&resolve(organizer.clone(), ids[0], "keep").await), "NotFound", "resolved once");
        assert_eq!(resolve(organizer.clone(), ids[1], "keep").await, format!("/account/c/{PETITION}?resolved=1"));
        app.next_breakdown();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while total(&app, PETITION).await != counted - 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(total(&app, PETITION).await, counted - 1, "the duplicate leaves the tally at the tick");
        assert_ne!(officer_count().await, officer_before);
        assert_eq!(app.count("SELECT COUNT(*) FROM paper_collisions WHERE resolution = 'removed'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM paper_collisions WHERE resolution = 'kept'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM paper_collisions WHERE resolved_at IS NULL").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'paper.collision'").await, 2);
        app.finish().await;
    }

    async fn a_paper_line_does_not_open_a_sealed_pledge(app: TestApp) {
        let f = fixture(&app).await;
        app.exec(&format!("UPDATE locals SET member_count = 100 WHERE id IN ({}, {})", f.local_a, f.local_b)).await;
        open_pledge(&app, &[f.local_a, f.local_b], "", "share_of_members = 60\nlocals_needed = 2\nsealed_names = true").await;
        seed_confirmed(&app, f.local_b, &["pledger@example.org"]).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;

        let signed = enter_line(&app, &officer, f.local_a, SLUG, "pledger@example.org").await;
        let never = enter_line(&app, &officer, f.local_a, SLUG, "stranger@example.org").await;
        assert_eq!(signed, never);
        assert_eq!(app.count("SELECT COUNT(*) FROM paper_collisions").await, 1);
        // Not even the organizer sees a line that would name a sealed pledger.
        let organizer = signed_in(&app, "org@example.org", Grant::CampaignOrganizer { campaign_id: campaign_id(&app).await }).await;
        let review = page(&app, &format!("/account/c/{SLUG}"), &organizer).await;
        assert!(!review.contains("pledger@example.org"), "{review}");
        app.finish().await;
    }

    async fn a_member_list_says_nothing_about_who_pledged_while_names_are_sealed(app: TestApp) {
        let f = fixture(&app).await;
        app.exec(&format!("UPDATE locals SET member_count = 40 WHERE id = {}", f.local_a)).await;
        open_pledge(&app, &[f.local_a, f.local_b], "", "signers_per_local = 3\nlocals_needed = 1\nverified_only = true\nsealed_names = true").await;
        seed_confirmed(&app, f.local_a, &["target@example.org", "other@example.org"]).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        // This window's batch has run; the next is six hours on.
        app.to_start_of_next_day();
        rollcall::pledges::verifying::apply_sealed_batch(&app.db, app.now()).await.unwrap();
        let queue_path = format!("/local/{}/verify/{SLUG}", f.local_a);
        let queue_before = marked(&page(&app, &queue_path, &officer).await, "verify-counts");
        let standing_before = marked(&page(&app, &format!("/local/{}", f.local_a), &officer).await, "standing");

        // The attack: the target and nine made-up addresses, then ten made-up ones.
        let mut with_target = made_up("fake", 9);
        with_target.push("Target@Example.org".to_owned());
        let with = upload(&app, &officer, f.local_a, &with_target).await;
        let without = upload(&app, &officer, f.local_a, &made_up("none", 10)).await;
        assert_eq!(with, without, "the same answer");
        assert_eq!(with, format!("/local/{}?members=10", f.local_a));
        assert_eq!(verified(&app).await, 0, "nothing is applied per upload");
        assert_eq!(marked(&page(&app, &queue_path, &officer).await, "verify-counts"), queue_before, "the queue does not move");
        let standing_after = marked(&page(&app, &format!("/local/{}", f.local_a), &officer).await, "standing");
        assert_eq!(standing_after, standing_before, "the dashboard does not move");

        // At the next sealed batch the list the local holds then is applied.
        upload(&app, &officer, f.local_a, &with_target).await;
        let next = app.now() + chrono::Duration::hours(rollcall::pledges::verifying::SEALED_BATCH_HOURS);
        rollcall::pledges::verifying::apply_sealed_batch(&app.db, next).await.unwrap();
        assert_eq!(verified(&app).await, 1);
        rollcall::pledges::verifying::apply_sealed_batch(&app.db, next).await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM member_list_batches").await, 2, "one batch a window");
        app.finish().await;
    }

    async fn a_member_list_must_be_plausible_and_each_officer_has_five_a_day(app: TestApp) {
        let f = fixture(&app).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let hashes = || app.count("SELECT COUNT(*) FROM member_hashes");

        // A quarter of 400 members is 100: ninety-nine addresses are refused.
        app.exec(&format!("UPDATE locals SET member_count = 400 WHERE id = {}", f.local_a)).await;
        assert_eq!(crate::accounts::refused_with(&upload(&app, &officer, f.local_a, &made_up("m", 99)).await), serde_json::json!({"Unreadable": {"TooShort": {"least": 100}}}));
        assert_eq!(hashes().await, 0, "a refused list changes nothing");
        // Never fewer than ten, with or without a member count.
        app.exec(&format!("UPDATE locals SET member_count = 8 WHERE id = {}", f.local_a)).await;
        assert_eq!(crate::accounts::refusal(&upload(&app, &officer, f.local_a, &made_up("m", 9)).await), "Unreadable");
        app.exec(&format!("UPDATE locals SET member_count = NULL WHERE id = {}", f.local_a)).await;
        assert_eq!(crate::accounts::refusal(&upload(&app, &officer, f.local_a, &made_up("m", 9)).await), "Unreadable");
        assert_eq!(hashes().await, 0);

        // Five accepted uploads a day; the sixth is refused and keeps the fifth list.
        app.to_start_of_next_day();
        for n in 0..5 {
            assert_eq!(upload(&app, &officer, f.local_a, &made_up(&format!("day{n}-"), 10 + n)).await, format!("/local/{}?members={}", f.local_a, 10 + n));
        }
        let sixth = upload(&app, &officer, f.local_a, &made_up("six", 20)).await;
        assert_eq!(crate::accounts::refused_with(&sixth), serde_json::json!({"Unreadable": {"NoAllowance": {"per_day": 5}}}), "{sixth}");
        assert_eq!(hashes().await, 14);
        // The allowance is the officer's, kept in the database; another officer has theirs.
        assert_eq!(app.count("SELECT CAST(SUM(count) AS BIGINT) FROM officer_allowances").await, 5);
        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        assert_eq!(upload(&app, &admin, f.local_a, &made_up("adm", 10)).await, format!("/local/{}?members=10", f.local_a));
        app.finish().await;
    }

    async fn a_large_member_list_fits_its_own_limit_while_other_bodies_keep_theirs(app: TestApp) {
        let f = fixture(&app).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        // A spreadsheet's export: address, names and street, to 1.5 MiB of form body.
        let mut body = format!("local_id={}&list=email%2Cgiven%2Cfamily%2Cstreet", f.local_a);
        let mut members = 0;
        while body.len() < 1_536 * 1024 {
            body.push_str(&format!("%0Amember{members:06}%40example.org%2CGiven{members}%2CFamily{members}%2C{members}+Long+Street"));
            members += 1;
        }
        assert!(body.len() < 2 * 1024 * 1024);
        let response = app
            .http
            .post(app.url("/api/upload_member_list"))
            .header("Accept", "text/html")
            .header("Referer", app.url("/sign-in"))
            .header("Cookie", &officer)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, at) = (response.status(), location(&response));
        assert_eq!(at, format!("/local/{}?members={members}", f.local_a), "{status}: {}", response.text().await.unwrap_or_default().chars().take(300).collect::<String>());
        assert_eq!(app.count("SELECT COUNT(*) FROM member_hashes").await, members);

        // Past the upload limit, refused on its length alone, before a byte of the body is
        // read (a client still writing a body the server has refused would see its pipe
        // break, so this one sends the head and waits for the answer).
        let huge = body.len() + 3 * 200_000;
        let answer = {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let addr = app.url("/").trim_start_matches("http://").trim_end_matches('/').to_owned();
            let mut connection = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "POST /api/upload_member_list HTTP/1.1\r\nHost: {addr}\r\nCookie: {officer}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {huge}\r\n\r\n"
            );
            connection.write_all(head.as_bytes()).await.unwrap();
            let mut answer = vec![0; 64];
            let read = tokio::time::timeout(std::time::Duration::from_secs(10), connection.read(&mut answer))
                .await
                .expect("an answer without the body")
                .unwrap();
            String::from_utf8_lossy(&answer[..read]).into_owned()
        };
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        // Everywhere else the small limit holds: a 20 KiB sign body is refused.
        let sign = serde_json::json!({"given_name": "Ana", "family_name": "x".repeat(20 * 1024), "email": "a@example.org", "local_id": f.local_a});
        let response = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/campaigns/{PETITION}/signatures")))
            .json(&sign)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
        app.finish().await;
    }
}
