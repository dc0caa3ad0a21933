//! The OSDI read API as a union's data team's sync uses it: walk every page, then ask only
//! for what changed; each key sees exactly what its CSV export would, and nothing sealed.

use std::collections::BTreeSet;

use chrono::Utc;
use rollcall::{
    accounts::access::{Caller, KeyFor},
    domain::Grant,
    organizing::moderation::{Action, moderate},
};
use serde_json::Value;

use crate::accounts::{PETITION, PLEDGE, fixture, key, seed, seed_petition};
use crate::both_databases;
use crate::harness::{Backend, TestApp};

/// GETs an OSDI document with `OSDI-API-Token`, as Action Network's clients send it.
async fn osdi(app: &TestApp, url: &str, token: &str) -> (u16, Value) {
    let response = app
        .http
        .get(url)
        .header("OSDI-API-Token", token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(response.headers()["content-type"], "application/hal+json");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every signature on every page from `first`, following `next`: (email, status) each.
async fn walk(app: &TestApp, first: String, token: &str) -> (Vec<(String, String)>, u64) {
    let mut next = Some(first);
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(url) = next {
        let (status, page) = osdi(app, &url, token).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        assert!(pages < 100, "the pages end");
        for signature in page["_embedded"]["osdi:signatures"].as_array().unwrap() {
            let person = &signature["_embedded"]["osdi:person"];
            seen.push((
                person["email_addresses"][0]["address"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                person["custom_fields"]["status"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
        }
        next = page["_links"]["next"]["href"].as_str().map(str::to_owned);
    }
    (seen, pages)
}

fn emails(seen: &[(String, String)]) -> BTreeSet<String> {
    seen.iter().map(|(email, _)| email.clone()).collect()
}

both_databases! {
    async fn an_osdi_sync_walks_every_page_then_asks_only_for_what_changed(app: TestApp) {
        let f = fixture(&app).await;
        // Five confirmed (two in local A, one in B, one in C, one supporter), one pending,
        // one withdrawn before confirming; and twenty more confirmed in local B.
        seed_petition(&app, &f).await;
        for n in 0..20 {
            seed(&app, f.petition, Some(f.local_b), "Many", &format!("m{n:02}@example.org"), "confirmed").await;
        }
        let organizer = key(&app, KeyFor::Campaign(PETITION)).await;

        // The campaign as a petition.
        let (status, list) = osdi(&app, &app.url("/osdi/v1/petitions"), &organizer).await;
        assert_eq!(status, 200);
        assert_eq!(list["total_records"], 1, "an organizer's key lists its campaign: {list}");
        let petition = &list["_embedded"]["osdi:petitions"][0];
        assert_eq!(petition["identifiers"][0], format!("rollcall:{PETITION}"));
        assert_eq!(petition["origin_system"], "Rollcall");
        assert_eq!(petition["browser_url"], app.url(&format!("/c/{PETITION}")));
        assert!(petition["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(petition["target"][0]["name"].as_str().is_some_and(|t| !t.is_empty()));
        let signatures_url = petition["_links"]["osdi:signatures"]["href"].as_str().unwrap().to_owned();
        let (_, one) = osdi(&app, &app.url(&format!("/osdi/v1/petitions/{PETITION}")), &organizer).await;
        assert_eq!(one["identifiers"], petition["identifiers"]);

        // Every page, seven at a time: exactly the confirmed signers, each once.
        let (seen, pages) = walk(&app, format!("{signatures_url}?per_page=7"), &organizer).await;
        assert_eq!(pages, 4, "25 signers, 7 a page");
        assert_eq!(seen.len(), 25, "each once: {seen:?}");
        assert_eq!(emails(&seen).len(), 25);
        assert!(seen.iter().all(|(_, status)| status == "confirmed"));
        for absent in ["pending@example.org", "withdrawn@example.org"] {
            assert!(!emails(&seen).contains(absent), "{absent} never confirmed");
        }
        let (_, first) = osdi(&app, &format!("{signatures_url}?per_page=7"), &organizer).await;
        assert_eq!(first["total_records"], 25);
        assert_eq!(first["total_pages"], 4);
        let ana = first["_embedded"]["osdi:signatures"].as_array().unwrap().iter()
            .find(|s| s["_embedded"]["osdi:person"]["email_addresses"][0]["address"] == "a1@example.org")
            .expect("Ana, the oldest, on the first page");
        let person = &ana["_embedded"]["osdi:person"];
        assert_eq!(person["given_name"], "Ana");
        assert_eq!(person["email_addresses"][0]["status"], "unsubscribed", "nobody asked for updates");
        assert_eq!(person["postal_addresses"][0]["postal_code"], "60601");
        assert_eq!(person["custom_fields"]["local_id"], f.local_a);
        assert_eq!(person["custom_fields"]["verified_by"], "email");
        assert!(ana["identifiers"][0].as_str().unwrap().starts_with("rollcall:"));

        // Later, one is invalidated by an organizer: the next sync sees only that change. (The
        // filter is to the second, as the dates are: the sync starts a second after the seeds.)
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let since = Utc::now();
        let (_, nothing) = osdi(&app, &format!("{signatures_url}?filter=modified_date gt '{}'", rollcall::domain::clock::rfc3339(since)), &organizer).await;
        assert_eq!(nothing["total_records"], 0, "nothing changed yet: {nothing}");
        let admin = Caller::Key { id: 0, grant: Grant::Admin };
        moderate(&app.db, &admin, PETITION, "b1@example.org", Action::Invalidate, "a duplicate", Utc::now())
            .await
            .unwrap();
        let changed = format!("{signatures_url}?filter=modified_date gt '{}'", rollcall::domain::clock::rfc3339(since));
        let (seen, _) = walk(&app, changed, &organizer).await;
        assert_eq!(seen, [("b1@example.org".to_owned(), "invalidated".to_owned())], "only the change");
        let (_, page) = osdi(&app, &format!("{signatures_url}?filter=modified_date gt '{}'", rollcall::domain::clock::rfc3339(since)), &organizer).await;
        let removal = &page["_embedded"]["osdi:signatures"][0];
        let person = &removal["_embedded"]["osdi:person"];
        assert!(person.get("given_name").is_none(), "only the address to match them by: {person}");
        assert_eq!(person["custom_fields"], serde_json::json!({"status": "invalidated"}), "nor where they signed");
        assert!(removal.get("created_date").is_none() && removal.get("action_date").is_none(), "nor when: {removal}");
        // A full walk never names those taken off: only a sync that asks for changes since
        // before they went learns they went.
        let (seen, _) = walk(&app, format!("{signatures_url}?per_page=100"), &organizer).await;
        assert_eq!(seen.len(), 24);
        assert!(!emails(&seen).contains("b1@example.org") && seen.iter().all(|(_, status)| status == "confirmed"));
        app.finish().await;
    }

    async fn an_officers_key_syncs_its_local_only_and_a_stranger_nothing(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let officer = key(&app, KeyFor::Local(&f.local_a.to_string())).await;
        let url = app.url(&format!("/osdi/v1/petitions/{PETITION}/signatures"));
        let (seen, _) = walk(&app, url.clone(), &officer).await;
        assert_eq!(emails(&seen), BTreeSet::from(["a1@example.org".to_owned(), "a2@example.org".to_owned()]));
        // Bearer works as well as OSDI-API-Token.
        let bearer = app.http.get(&url).bearer_auth(&officer).send().await.unwrap();
        assert_eq!(bearer.status(), 200);

        // The attacks: no key, a made-up key, a partner's key, page sizes out of range.
        assert_eq!(app.http.get(&url).send().await.unwrap().status(), 401);
        assert_eq!(osdi(&app, &url, "not-a-key").await.0, 401);
        let partner = key(&app, KeyFor::Partner).await;
        assert_eq!(osdi(&app, &url, &partner).await.0, 401, "a partner's key signs, and reads nobody");
        assert_eq!(osdi(&app, &format!("{url}?per_page=101"), &officer).await.0, 400);
        assert_eq!(osdi(&app, &format!("{url}?page=0"), &officer).await.0, 400);
        assert_eq!(osdi(&app, &format!("{url}?page=184467440737095516&per_page=100"), &officer).await.0, 400, "an offset past any database's integers");
        assert_eq!(osdi(&app, &format!("{url}?filter=created_date gt '2026-01-01'"), &officer).await.0, 400);
        // An unknown campaign.
        let (missing, _) = osdi(&app, &app.url("/osdi/v1/petitions/no-such-campaign/signatures"), &officer).await;
        assert_eq!(missing, 404);
        app.finish().await;
    }

    async fn a_sealed_local_is_not_synced_until_it_reaches(app: TestApp) {
        let f = fixture(&app).await;
        let pledge = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PLEDGE}'")).await;
        seed(&app, pledge, Some(f.local_a), "Sol", "sealed@example.org", "confirmed").await;
        let organizer = key(&app, KeyFor::Campaign(PLEDGE)).await;
        let url = app.url(&format!("/osdi/v1/petitions/{PLEDGE}/signatures"));
        // Unsealed, the pledger is synced; sealed, the same walk names nobody in the local.
        let (seen, _) = walk(&app, url.clone(), &organizer).await;
        assert!(emails(&seen).contains("sealed@example.org"), "{seen:?}");
        app.exec(&format!("UPDATE campaigns SET sealed_names = true WHERE id = {pledge}")).await;
        let (seen, _) = walk(&app, url, &organizer).await;
        assert!(!emails(&seen).contains("sealed@example.org"), "a sealed local names nobody: {seen:?}");
        app.finish().await;
    }
}
