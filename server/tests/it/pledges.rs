//! Strike pledges: thresholds that bind once, frozen member counts, membership
//! verification, announcements told once to each pledger, the deadline, withdrawal after
//! reaching, sealed names, and campaigns that list the locals that may sign.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use rollcall::{
    accounts::access::KeyFor,
    domain::Grant,
    entities::{campaign, local},
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::accounts::{
    Auth, csv_path, emails, export, fixture, key, location, post_form, signed_in,
};
use crate::both_databases;
use crate::harness::{Backend, TestApp};

pub(crate) const SLUG: &str = "walkout-test";
const WAIT: Duration = Duration::from_secs(20);

/// `union/local` for a local id, as a campaign file names it.
async fn path_of(app: &TestApp, local_id: i64) -> String {
    let found = local::Entity::find_by_id(local_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    format!("utw/{}", found.slug)
}

/// Imports the test pledge: open, the UTW locals `locals`, with `[pledge]` as given.
pub(crate) async fn open_pledge(app: &TestApp, locals: &[i64], extra: &str, pledge: &str) {
    let mut names = Vec::new();
    for &id in locals {
        names.push(format!("{:?}", path_of(app, id).await));
    }
    let file = format!(
        r#"
slug = "{SLUG}"
kind = "pledge"
addressee = "Our employer"
status = "open"
sponsors = ["utw"]
locals = [{}]
smallest_group = 1
allow_community = false
{extra}

[pledge]
{pledge}

[[text]]
language = "en"
title = "Walk out together"
summary = "We walk out when enough of us have pledged."
body = "I will walk out when my local is ready."
"#,
        names.join(", ")
    );
    rollcall::organizing::import::import_campaign(&app.db, &file, Utc::now())
        .await
        .unwrap();
}

pub(crate) async fn campaign_id(app: &TestApp) -> i64 {
    app.count(&format!("SELECT id FROM campaigns WHERE slug = '{SLUG}'"))
        .await
}

async fn reached(app: &TestApp, local_id: i64) -> bool {
    app.count(&format!(
        "SELECT COUNT(*) FROM campaign_locals WHERE local_id = {local_id} AND reached_at IS NOT NULL \
         AND campaign_id = (SELECT id FROM campaigns WHERE slug = '{SLUG}')"
    ))
    .await
        == 1
}

/// Signs `n` pledgers in `local_id` through the API and confirms them all at once; their
/// addresses.
async fn pledge_and_confirm(app: &TestApp, local_id: i64, n: usize, tag: &str) -> Vec<String> {
    let before = app.smtp.messages().len();
    let mut addresses = Vec::new();
    for i in 0..n {
        let email = format!("{tag}{i}@example.org");
        let response = app
            .sign_json(SLUG, json!({"given_name": "Pat", "family_name": format!("Lee{i}"), "email": email, "local_id": local_id}))
            .await;
        assert_eq!(response.status(), 202);
        addresses.push(email);
    }
    let mails = app.wait_for_mails(before + n, WAIT).await;
    let links: Vec<String> = mails[before..]
        .iter()
        .map(|m| m.link("/v/").expect("a confirm link"))
        .collect();
    let presses = links.iter().map(|link| app.press_confirm(link));
    for response in futures::future::join_all(presses).await {
        assert_eq!(response.status(), 302);
    }
    addresses
}

/// Confirmed pledges written straight to the database, counted in the tally as a
/// confirmation would.
pub(crate) async fn seed_confirmed(app: &TestApp, local_id: i64, emails: &[&str]) {
    let campaign = campaign_id(app).await;
    for email in emails {
        crate::accounts::seed(app, campaign, Some(local_id), "Sam", email, "confirmed").await;
    }
    let ids: Vec<uuid::Uuid> = {
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        rollcall::entities::signature::Entity::find()
            .select_only()
            .column(rollcall::entities::signature::Column::Id)
            .filter(rollcall::entities::signature::Column::CampaignId.eq(campaign))
            .filter(rollcall::entities::signature::Column::Email.is_in(emails.iter().copied()))
            .into_tuple()
            .all(&app.db)
            .await
            .unwrap()
    };
    for id in ids {
        rollcall::store::tally::add(&app.db, campaign, Some(local_id), id, 1)
            .await
            .unwrap();
    }
}

async fn tally_json(app: &TestApp) -> Value {
    app.http
        .get(app.url(&format!("/api/v1/campaigns/{SLUG}/tally")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until the public tally satisfies `done`, moving the clock past each breakdown
/// tick so its groups catch up.
async fn tally_until(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        app.next_breakdown();
        let tally = tally_json(app).await;
        if done(&tally) {
            return tally;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the tally never got there: {tally}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn local_in(tally: &Value, local_id: i64) -> Value {
    tally["by_local"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["local_id"] == local_id)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Announcement mails by recipient.
fn announcements(app: &TestApp) -> BTreeMap<String, usize> {
    let mut by = BTreeMap::new();
    for mail in app
        .smtp
        .messages()
        .into_iter()
        .filter(|m| m.subject == "News about your pledge")
    {
        *by.entry(mail.to).or_default() += 1;
    }
    by
}

/// Presses the withdraw button behind a receipt's link.
async fn withdraw(app: &TestApp, link: &str) {
    let token = crate::harness::token_of(link);
    let pressed = app
        .http
        .post(app.url("/api/withdraw"))
        .header("Accept", "text/html")
        .header("Referer", link)
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), 302);
}

/// An officer's verdict on the pledge signed with `email`.
async fn verdict(
    app: &TestApp,
    cookie: &str,
    local: &str,
    email: &str,
    verdict: &str,
) -> reqwest::Response {
    use sea_orm::ConnectionTrait;
    let sql = format!("SELECT id FROM signatures WHERE email = '{email}'");
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    let id = row.try_get_by_index::<uuid::Uuid>(0).unwrap().to_string();
    post_form(
        app,
        "verify_pledge",
        Some(cookie),
        &[
            ("slug", SLUG),
            ("local_id", local),
            ("signature_id", &id),
            ("verdict", verdict),
        ],
    )
    .await
}

both_databases! {
    async fn concurrent_confirmations_cross_a_local_once_and_each_pledger_is_told_once(app: TestApp) {
        let f = fixture(&app).await;
        app.exec(&format!("UPDATE locals SET member_count = 10 WHERE id = {}", f.local_a)).await;
        open_pledge(&app, &[f.local_a, f.local_b], "", "share_of_members = 60\nlocals_needed = 1\nreached_message = \"Walk out on Monday.\"").await;
        assert_eq!(app.count(&format!("SELECT member_count FROM campaign_locals WHERE local_id = {} AND frozen_at IS NOT NULL AND campaign_id = {}", f.local_a, campaign_id(&app).await)).await, 10, "frozen as the pledge opened");
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;

        // 60% of 10 is 6: six pledgers confirming at once, the last of them crossing it,
        // exactly once and in its own transaction (checked before the worker's next look).
        let pledgers = pledge_and_confirm(&app, f.local_a, 6, "a").await;
        assert!(reached(&app, f.local_a).await);
        assert!(!reached(&app, f.local_b).await);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'pledge.local_reached'").await, 1);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM announcements WHERE scope_key = 'local:{}'", f.local_a)).await, 1);

        // One local of one needed: the evaluator marks the whole pledge reached, live.
        let tally = tally_until(&app, |t| t["state"] == "reached").await;
        assert!(local_in(&tally, f.local_a)["reached_at"].is_string());
        assert_eq!(local_in(&tally, f.local_a)["needed"], 6);
        assert!(tally["reached_at"].is_string());
        assert_eq!(app.count("SELECT COUNT(*) FROM announcements WHERE scope_key = 'campaign'").await, 1);
        let page = app.http.get(app.url(&format!("/c/{SLUG}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-state=\"reached\""), "the page says it binds");
        assert!(page.contains("Binds once 60% of its members in a local have pledged."));

        // Nothing goes out before an organizer releases; an officer may not release.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(announcements(&app).is_empty());
        let ids: Vec<i64> = vec![
            app.count("SELECT id FROM announcements WHERE scope_key LIKE 'local:%'").await,
            app.count("SELECT id FROM announcements WHERE scope_key = 'campaign'").await,
        ];
        let refused = post_form(&app, "release_announcement", Some(&officer), &[("slug", SLUG), ("announcement_id", &ids[0].to_string()), ("message", "Go")]).await;
        assert_eq!(crate::accounts::refusal(&location(&refused)), "Forbidden");
        let dashboard = app.http.get(app.url(&format!("/account/c/{SLUG}"))).header("Cookie", &admin).send().await.unwrap().text().await.unwrap();
        assert!(dashboard.contains("Walk out on Monday."), "the organizer sees the message waiting");
        for id in &ids {
            let released = post_form(&app, "release_announcement", Some(&admin), &[("slug", SLUG), ("announcement_id", &id.to_string()), ("message", "Walk out on Monday.")]).await;
            assert_eq!(location(&released), format!("/account/c/{SLUG}?released=1"));
        }
        let again = post_form(&app, "release_announcement", Some(&admin), &[("slug", SLUG), ("announcement_id", &ids[0].to_string()), ("message", "Changed my mind")]).await;
        assert_eq!(crate::accounts::refusal(&location(&again)), "Campaign", "an announcement, once released, stands");

        // Each pledger hears twice (their local, the whole pledge), and so does the officer.
        let deadline = std::time::Instant::now() + WAIT;
        while announcements(&app).values().sum::<usize>() < 14 {
            assert!(std::time::Instant::now() < deadline, "{:?}", announcements(&app));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let told = announcements(&app);
        for pledger in &pledgers {
            assert_eq!(told.get(pledger), Some(&2), "{pledger}: {told:?}");
        }
        assert_eq!(told.get("officer@example.org"), Some(&2));
        assert_eq!(told.len(), 7, "nobody else: {told:?}");
        let mail = app.smtp.messages().into_iter().find(|m| m.subject == "News about your pledge").unwrap();
        assert!(mail.text.contains("Walk out on Monday."));
        assert!(!mail.subject.contains("UTW"));
        app.finish().await;
    }

    async fn a_restarted_sender_neither_repeats_nor_skips_anyone(app: TestApp) {
        let f = fixture(&app).await;
        open_pledge(&app, &[f.local_a], "", "signers_per_local = 100\nlocals_needed = 1").await;
        let seeded: Vec<String> = (0..7).map(|i| format!("p{i}@example.org")).collect();
        seed_confirmed(&app, f.local_a, &seeded.iter().map(String::as_str).collect::<Vec<_>>()).await;
        crate::accounts::seed(&app, campaign_id(&app).await, Some(f.local_a), "Wes", "gone@example.org", "withdrawn").await;
        let mut campaign = campaign::Entity::find_by_id(campaign_id(&app).await).one(&app.db).await.unwrap().unwrap();
        // Released as it opens, as a campaign set to release by itself does.
        campaign.auto_release = true;
        campaign.reached_message = "Now.".into();
        let now = Utc::now();
        let txn = rollcall::store::db::begin_write(&app.db).await.unwrap();
        rollcall::pledges::announcing::open(&txn, &campaign, Some(f.local_a), rollcall::pledges::announcing::AnnouncementKind::Reached, now).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM announcements WHERE released_at IS NOT NULL").await, 1);

        // A sender that stops after three, then two that start together after a restart
        // (and the server's own worker, which may join in at any moment).
        assert!(rollcall::pledges::announcing::send_step(&app.db, &app.url(""), 3, now).await.unwrap());
        let base = app.url("");
        let (one, two) = tokio::join!(
            rollcall::pledges::announcing::send_all(&app.db, &base, now),
            rollcall::pledges::announcing::send_all(&app.db, &base, now),
        );
        one.unwrap();
        two.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'announcement'").await, 7);
        // Sent mail keeps no recipient in the outbox: who got one is read from the mail.
        let mails = app.wait_for_mails(7, std::time::Duration::from_secs(30)).await;
        let to: std::collections::BTreeSet<_> = mails.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(to.len(), 7, "one each: {to:?}");
        assert!(!to.contains("gone@example.org"));
        assert_eq!(app.count("SELECT COUNT(*) FROM announcements WHERE finished_at IS NOT NULL").await, 1);
        app.finish().await;
    }

    async fn a_frozen_member_count_changes_only_when_an_organizer_accepts_it(app: TestApp) {
        let f = fixture(&app).await;
        app.exec(&format!("UPDATE locals SET member_count = 10 WHERE id = {}", f.local_a)).await;
        open_pledge(&app, &[f.local_a], "", "share_of_members = 60\nlocals_needed = 1").await;
        seed_confirmed(&app, f.local_a, &["x1@example.org", "x2@example.org", "x3@example.org"]).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let organizer = signed_in(&app, "organizer@example.org", Grant::CampaignOrganizer { campaign_id: campaign_id(&app).await }).await;
        let this = campaign_id(&app).await;
        let frozen_sql = format!("SELECT member_count FROM campaign_locals WHERE local_id = {} AND campaign_id = {this}", f.local_a);
        let frozen = || app.count(&frozen_sql);
        let today = Utc::now().date_naive().to_string();
        let local = f.local_a.to_string();

        post_form(&app, "set_member_count", Some(&officer), &[("local_id", &local), ("member_count", "20"), ("as_of", &today)]).await;
        assert_eq!(app.count(&format!("SELECT member_count FROM locals WHERE id = {local}")).await, 20);
        assert_eq!(frozen().await, 10, "the pledge keeps its denominator");
        assert_eq!(app.count(&format!("SELECT proposed_member_count FROM campaign_locals WHERE local_id = {local} AND campaign_id = {this}")).await, 20);
        let page = app.http.get(app.url(&format!("/account/c/{SLUG}"))).header("Cookie", &organizer).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("data-testid=\"proposal-{local}\"")));

        // Only an organizer decides; declining keeps 10.
        let refused = post_form(&app, "decide_member_count", Some(&officer), &[("slug", SLUG), ("local_id", &local), ("decision", "accept")]).await;
        assert_eq!(crate::accounts::refusal(&location(&refused)), "Forbidden");
        let declined = post_form(&app, "decide_member_count", Some(&organizer), &[("slug", SLUG), ("local_id", &local), ("decision", "decline")]).await;
        assert_eq!(location(&declined), format!("/account/c/{SLUG}?decided=1"));
        assert_eq!(frozen().await, 10);
        assert!(!reached(&app, f.local_a).await);

        // Accepting 4 makes 3 pledges 75%: the local crosses then and there.
        post_form(&app, "set_member_count", Some(&officer), &[("local_id", &local), ("member_count", "4"), ("as_of", &today)]).await;
        post_form(&app, "decide_member_count", Some(&organizer), &[("slug", SLUG), ("local_id", &local), ("decision", "accept")]).await;
        assert_eq!(frozen().await, 4);
        assert!(reached(&app, f.local_a).await);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'pledge.member_count_declined'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'pledge.member_count_accepted'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'local.member_count'").await, 2);
        app.finish().await;
    }

    async fn a_verified_only_rule_crosses_on_the_officers_word(app: TestApp) {
        let f = fixture(&app).await;
        // A list of ten is plausible for a local of forty (a quarter of it).
        app.exec(&format!("UPDATE locals SET member_count = 40 WHERE id = {}", f.local_a)).await;
        open_pledge(&app, &[f.local_a, f.local_b], "", "signers_per_local = 2\nlocals_needed = 1\nverified_only = true").await;
        seed_confirmed(&app, f.local_a, &["v1@example.org", "v2@example.org", "v3@example.org", "v4@example.org"]).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let other = signed_in(&app, "other@example.org", Grant::Officer { local_id: f.local_b }).await;
        let id = campaign_id(&app).await;
        assert!(!rollcall::pledges::evaluate(&app.db, id, Utc::now()).await.unwrap(), "four confirmed, none verified");
        let local = f.local_a.to_string();
        let refused = verdict(&app, &other, &local, "v1@example.org", "member").await;
        assert_eq!(crate::accounts::refusal(&location(&refused)), "Forbidden", "another local's officer");
        let queue = app.http.get(app.url(&format!("/local/{local}/verify/{SLUG}"))).header("Cookie", &officer).send().await.unwrap().text().await.unwrap();
        assert_eq!(queue.matches("data-testid=\"queue-line\"").count(), 4);

        verdict(&app, &officer, &local, "v1@example.org", "member").await;
        verdict(&app, &officer, &local, "v2@example.org", "not_member").await;
        assert!(!reached(&app, f.local_a).await, "one verified of two needed");
        // The member list verifies the rest by fingerprint, never keeping an address.
        let short = post_form(&app, "upload_member_list", Some(&officer), &[("local_id", &local), ("list", "V3@Example.org\n")]).await;
        assert_eq!(crate::accounts::refusal(&location(&short)), "Unreadable", "a list of one would say whether that one pledged");
        assert!(!reached(&app, f.local_a).await);
        let list: String = std::iter::once("email".to_owned())
            .chain(std::iter::once("V3@Example.org".to_owned()))
            .chain((0..9).map(|i| format!("member{i}@example.org")))
            .collect::<Vec<_>>()
            .join("\n");
        let uploaded = post_form(&app, "upload_member_list", Some(&officer), &[("local_id", &local), ("list", &list)]).await;
        assert_eq!(location(&uploaded), format!("/local/{local}?members=10"), "how many it holds, not how many matched");
        assert!(reached(&app, f.local_a).await);
        assert_eq!(app.count("SELECT COUNT(*) FROM member_hashes WHERE hash LIKE '%@%'").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE verification = 'verified'").await, 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE verification = 'not_member'").await, 1);
        let bad = post_form(&app, "upload_member_list", Some(&officer), &[("local_id", &local), ("list", "a@example.org\nnot an address\n")]).await;
        assert_eq!(crate::accounts::refusal(&location(&bad)), "Unreadable");
        assert_eq!(app.count("SELECT COUNT(*) FROM member_hashes").await, 10, "a bad list changes nothing");
        app.finish().await;
    }

    async fn the_deadline_and_its_grace_settle_the_outcome_for_good(app: TestApp) {
        let f = fixture(&app).await;
        app.exec(&format!("UPDATE locals SET member_count = NULL WHERE id = {}", f.local_b)).await;
        let closes = Utc::now() - chrono::Duration::hours(2);
        open_pledge(
            &app,
            &[f.local_a, f.local_b],
            &format!("closes_at = {:?}", closes.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "share_of_members = 50\nlocals_needed = 2\nwithout_member_count = \"not_eligible\"\nunmet_message = \"Not this time.\"",
        ).await;
        let id = campaign_id(&app).await;
        let evaluate = |at| rollcall::pledges::evaluate(&app.db, id, at);
        assert!(!evaluate(Utc::now()).await.unwrap(), "within the day of grace nothing is settled");
        let after = closes + chrono::Duration::hours(24) + chrono::Duration::seconds(1);
        assert!(evaluate(after).await.unwrap());
        assert!(!evaluate(after + chrono::Duration::hours(1)).await.unwrap(), "settled once");
        assert_eq!(app.count("SELECT COUNT(*) FROM announcements WHERE kind = 'unmet'").await, 1);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM campaigns WHERE id = {id} AND ended_at IS NOT NULL AND reached_at IS NULL")).await, 1);
        let tally = tally_until(&app, |t| t["state"] == "not_reached").await;
        assert!(tally["reached_at"].is_null());
        // A local without a member count that is not eligible has no threshold to show.
        let detail: Value = app.http.get(app.url(&format!("/api/v1/campaigns/{SLUG}"))).send().await.unwrap().json().await.unwrap();
        assert_eq!(detail["pledge"]["without_member_count"], "not_eligible");
        // A rule met by the last confirmations ends as reached, even when the first look
        // after them comes once the grace has run out.
        app.exec(&format!("UPDATE campaigns SET slug = 'walkout-old' WHERE id = {id}")).await;
        app.exec(&format!("UPDATE locals SET member_count = 2 WHERE id = {}", f.local_a)).await;
        open_pledge(
            &app,
            &[f.local_a],
            &format!("closes_at = {:?}", closes.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "share_of_members = 50\nlocals_needed = 1\nunmet_message = \"Not this time.\"",
        ).await;
        seed_confirmed(&app, f.local_a, &["last@example.org"]).await;
        let late = campaign_id(&app).await;
        assert!(rollcall::pledges::evaluate(&app.db, late, after).await.unwrap());
        assert!(reached(&app, f.local_a).await);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM campaigns WHERE id = {late} AND reached_at IS NOT NULL AND ended_at IS NOT NULL")).await, 1);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM announcements WHERE campaign_id = {late} AND kind = 'unmet'")).await, 0);
        let rows = {
            use sea_orm::{ColumnTrait, QueryFilter};
            rollcall::entities::campaign_local::Entity::find()
                .filter(rollcall::entities::campaign_local::Column::CampaignId.eq(id))
                .all(&app.db)
                .await
                .unwrap()
        };
        let standing = rollcall::store::campaigns::standing(&app.db, &campaign::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap(), &rows).await.unwrap();
        assert_eq!(standing[&f.local_b].needed, None);
        app.finish().await;
    }

    async fn withdrawing_after_reaching_lowers_the_count_and_keeps_the_crossing(app: TestApp) {
        let f = fixture(&app).await;
        app.exec(&format!("UPDATE locals SET member_count = 2 WHERE id = {}", f.local_a)).await;
        open_pledge(&app, &[f.local_a], "", "share_of_members = 100\nlocals_needed = 1").await;
        // Before reaching: one pledges and withdraws; the local is back to nothing.
        pledge_and_confirm(&app, f.local_a, 1, "early").await;
        let receipt = app.wait_for_mails(2, WAIT).await[1].link("/w/").unwrap();
        withdraw(&app, &receipt).await;
        assert_eq!(app.tally(SLUG).await["total"], 0);
        assert!(!reached(&app, f.local_a).await);

        // Two of two cross; then one withdraws.
        pledge_and_confirm(&app, f.local_a, 2, "w").await;
        assert!(reached(&app, f.local_a).await);
        let receipts = app.wait_for_mails(6, WAIT).await;
        let withdraw_link = receipts[2..].iter().find_map(|m| m.link("/w/")).unwrap();
        withdraw(&app, &withdraw_link).await;
        assert_eq!(app.tally(SLUG).await["total"], 1, "the tally counts the pledges now confirmed");
        assert!(reached(&app, f.local_a).await, "a crossing stands");
        let tally = tally_until(&app, |t| local_in(t, f.local_a)["withdrawn_since"] == 1).await;
        assert!(local_in(&tally, f.local_a)["reached_at"].is_string());
        app.finish().await;
    }

    async fn sealed_names_stay_hidden_from_every_role_until_the_local_reaches(app: TestApp) {
        let f = fixture(&app).await;
        app.exec(&format!("UPDATE locals SET member_count = 10 WHERE id = {}", f.local_a)).await;
        app.exec(&format!("UPDATE locals SET member_count = 1 WHERE id = {}", f.local_b)).await;
        open_pledge(&app, &[f.local_a, f.local_b], "", "share_of_members = 60\nlocals_needed = 2\nsealed_names = true").await;
        seed_confirmed(&app, f.local_a, &["a1@example.org", "a2@example.org"]).await;
        seed_confirmed(&app, f.local_b, &["b1@example.org"]).await;
        assert!(rollcall::pledges::evaluate(&app.db, campaign_id(&app).await, Utc::now()).await.unwrap());
        assert!(reached(&app, f.local_b).await && !reached(&app, f.local_a).await);

        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        let organizer = key(&app, KeyFor::Campaign(SLUG)).await;
        let officer_a = key(&app, KeyFor::Local(&f.local_a.to_string())).await;
        let officer_b = key(&app, KeyFor::Local(&f.local_b.to_string())).await;
        let union = signed_in(&app, "union@example.org", Grant::UnionOrganizer { union_id: f.utw }).await;
        for (who, auth, expected) in [
            ("admin", Auth::Cookie(&admin), vec!["b1@example.org"]),
            ("organizer", Auth::Key(&organizer), vec!["b1@example.org"]),
            ("union organizer", Auth::Cookie(&union), vec!["b1@example.org"]),
            ("officer of A", Auth::Key(&officer_a), vec![]),
            ("officer of B", Auth::Key(&officer_b), vec!["b1@example.org"]),
        ] {
            let (status, csv) = export(&app, &csv_path(SLUG, ""), auth).await;
            assert_eq!(status, 200, "{who}");
            assert_eq!(emails(&csv), expected, "{who}");
        }
        let (_, csv) = export(&app, &csv_path(SLUG, &format!("?local={}", f.local_a)), Auth::Key(&officer_a)).await;
        assert!(emails(&csv).is_empty(), "asking by name does not open the seal");
        // Not even those who chose to show their name, on the public list.
        app.exec("UPDATE signatures SET show_name = TRUE WHERE email IN ('a1@example.org', 'b1@example.org')").await;
        let names: Value = app.http.get(app.url(&format!("/api/v1/campaigns/{SLUG}/signers"))).send().await.unwrap().json().await.unwrap();
        let shown: Vec<&str> = names["names"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(shown, vec!["Sam N."], "only B's, which has reached: {names}");
        let moderated = post_form(&app, "moderate", Some(&admin), &[("slug", SLUG), ("email", "a1@example.org"), ("action", "invalidate"), ("reason", "probe")]).await;
        assert_eq!(crate::accounts::refusal(&location(&moderated)), "NotFound", "moderation does not reveal a sealed pledger");
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE status = 'invalidated'").await, 0);
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let page = app.http.get(app.url(&format!("/local/{}", f.local_a))).header("Cookie", &officer).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("Sam Núñez"), "no names on the officer's page");
        assert!(page.contains("Names are sealed"));
        let queue = app.http.get(app.url(&format!("/local/{}/verify/{SLUG}", f.local_a))).header("Cookie", &officer).send().await.unwrap().text().await.unwrap();
        assert!(!queue.contains("a1@example.org"));
        assert!(queue.contains("2 confirmed"), "counts stay visible");

        // Once A reaches, its names open to those who may see A.
        seed_confirmed(&app, f.local_a, &["a3@example.org", "a4@example.org", "a5@example.org", "a6@example.org"]).await;
        assert!(rollcall::pledges::evaluate(&app.db, campaign_id(&app).await, Utc::now()).await.unwrap());
        let (_, csv) = export(&app, &csv_path(SLUG, ""), Auth::Key(&officer_a)).await;
        assert_eq!(emails(&csv).len(), 6);
        app.finish().await;
    }

    async fn a_campaign_is_signed_only_by_the_locals_it_lists(app: TestApp) {
        let f = fixture(&app).await;
        open_pledge(&app, &[f.local_a], "", "").await;
        let detail: Value = app.http.get(app.url(&format!("/api/v1/campaigns/{SLUG}"))).send().await.unwrap().json().await.unwrap();
        let locals: Vec<i64> = detail["locals"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
        assert_eq!(locals, vec![f.local_a]);
        let response = app.sign_json(SLUG, json!({"given_name": "Bo", "family_name": "Diaz", "email": "bo@example.org", "local_id": f.local_b})).await;
        assert_eq!(response.status(), 422, "a local the pledge does not list");
        let response = app.sign_json(SLUG, json!({"given_name": "Ana", "family_name": "Diaz", "email": "ana@example.org", "local_id": f.local_a})).await;
        assert_eq!(response.status(), 202);

        // Open, the pledge keeps its locals and its rule.
        let b = path_of(&app, f.local_b).await;
        let file = |locals: &str, rule: &str| format!(
            "slug = \"{SLUG}\"\nkind = \"pledge\"\naddressee = \"Our employer\"\nstatus = \"open\"\nsponsors = [\"utw\"]\nlocals = [{locals}]\n[pledge]\n{rule}\n[[text]]\nlanguage = \"en\"\ntitle = \"Walk out together\"\nsummary = \"s\"\nbody = \"b\"\n"
        );
        let err = rollcall::organizing::import::import_campaign(&app.db, &file(&format!("{b:?}"), ""), Utc::now()).await.unwrap_err();
        assert!(err.to_string().contains("cannot leave"), "{err}");
        let err = rollcall::organizing::import::import_campaign(&app.db, &file(&format!("{:?}", path_of(&app, f.local_a).await), "signers_in_all = 10"), Utc::now()).await.unwrap_err();
        assert!(err.to_string().contains("cannot change"), "{err}");
        // Joining is allowed, frozen at once.
        let both = format!("{:?}, {b:?}", path_of(&app, f.local_a).await);
        rollcall::organizing::import::import_campaign(&app.db, &file(&both, ""), Utc::now()).await.unwrap();
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM campaign_locals WHERE frozen_at IS NOT NULL AND campaign_id = {}", campaign_id(&app).await)).await, 2);
        app.finish().await;
    }
}
