//! Accounts and exports: sign-in with a second factor, sessions, invitations, API keys,
//! and a role matrix proving that every caller exports exactly the signers their scope
//! allows, and nothing for anyone else.

use std::time::Duration;

use chrono::Utc;
use rollcall::{
    accounts::access::{self, KeyFor},
    domain::Grant,
    entities::{campaign_text, signature},
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::both_databases;
use crate::harness::{Backend, TestApp, token_of};

pub const PETITION: &str = "joint-statement-demo";
pub const PLEDGE: &str = "general-strike-pledge-demo";
pub const PASSWORD: &str = "a long enough password";
pub const WAIT: Duration = Duration::from_secs(15);

/// The demo's ids the matrix needs: two UTW locals and a BNA local (BNA sponsors the
/// petition but not the pledge), and the unions themselves.
pub struct Fixture {
    pub petition: i64,
    pub local_a: i64,
    pub local_b: i64,
    pub local_c: i64,
    pub utw: i64,
}

async fn id(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

pub async fn fixture(app: &TestApp) -> Fixture {
    let utw = id(app, "SELECT id FROM unions WHERE slug = 'utw'").await;
    let bna = id(app, "SELECT id FROM unions WHERE slug = 'bna'").await;
    let local = |union: i64, nth: i64| {
        format!("SELECT id FROM locals WHERE union_id = {union} ORDER BY id LIMIT 1 OFFSET {nth}")
    };
    Fixture {
        petition: id(
            app,
            &format!("SELECT id FROM campaigns WHERE slug = '{PETITION}'"),
        )
        .await,
        local_a: id(app, &local(utw, 0)).await,
        local_b: id(app, &local(utw, 1)).await,
        local_c: id(app, &local(bna, 0)).await,
        utw,
    }
}

/// A signature written straight to the database: the export is what is under test here
/// (signing and confirming over HTTP are tested in `signing.rs`, and once below).
pub async fn seed(
    app: &TestApp,
    campaign: i64,
    local: Option<i64>,
    given: &str,
    email: &str,
    status: &str,
) {
    let text = campaign_text::Entity::find()
        .filter(campaign_text::Column::CampaignId.eq(campaign))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now();
    signature::Entity::insert(signature::ActiveModel {
        id: Set(Uuid::now_v7()),
        campaign_id: Set(campaign),
        local_id: Set(local),
        given_name: Set(given.to_owned()),
        family_name: Set("Núñez".to_owned()),
        email: Set(email.to_owned()),
        canonical_email: Set(email.to_owned()),
        employer: Set(None),
        postal_code: Set(Some("60601".to_owned())),
        phone: Set(Some("+1 312 555 0100".to_owned())),
        language: Set("en".to_owned()),
        text_id: Set(text.id),
        show_name: Set(false),
        status: Set(status.parse().expect("a signature status")),
        confirm_token_hash: Set(None),
        confirm_expires_at: Set(None),
        withdraw_token_hash: Set(None),
        created_at: Set(now),
        confirmed_at: Set((status == "confirmed").then_some(now)),
        withdrawn_at: Set(None),
        invalidated_at: Set(None),
        ip: Set(None),
        attested_by: Set(None),
        verification: Set(None),
        verified_by: Set(None),
        verified_at: Set(None),
    })
    .exec_without_returning(&app.db)
    .await
    .unwrap();
}

/// Two confirmed in local A (one with a name a spreadsheet would run), one in B, one in
/// C, one community supporter; a pending and a withdrawn one in A that never leave.
pub async fn seed_petition(app: &TestApp, f: &Fixture) {
    seed(
        app,
        f.petition,
        Some(f.local_a),
        "Ana",
        "a1@example.org",
        "confirmed",
    )
    .await;
    seed(
        app,
        f.petition,
        Some(f.local_a),
        "=HYPERLINK(\"http://x\")",
        "a2@example.org",
        "confirmed",
    )
    .await;
    seed(
        app,
        f.petition,
        Some(f.local_b),
        "Bo",
        "b1@example.org",
        "confirmed",
    )
    .await;
    seed(
        app,
        f.petition,
        Some(f.local_c),
        "Cy",
        "c1@example.org",
        "confirmed",
    )
    .await;
    seed(app, f.petition, None, "Dee", "d1@example.org", "confirmed").await;
    seed(
        app,
        f.petition,
        Some(f.local_a),
        "Pat",
        "pending@example.org",
        "pending",
    )
    .await;
    seed(
        app,
        f.petition,
        Some(f.local_a),
        "Wes",
        "withdrawn@example.org",
        "withdrawn",
    )
    .await;
}

pub async fn key(app: &TestApp, what: KeyFor<'_>) -> String {
    let (_, key) = access::create_key(&app.db, what, "test", Utc::now())
        .await
        .unwrap();
    key.as_str().to_owned()
}

/// GETs an export with some credential; the status and the body.
pub async fn export(app: &TestApp, path: &str, auth: Auth<'_>) -> (u16, String) {
    let mut request = app.http.get(app.url(path));
    request = match auth {
        Auth::None => request,
        Auth::Key(key) => request.bearer_auth(key),
        Auth::Cookie(cookie) => request.header("Cookie", cookie),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Key(&'a str),
    Cookie(&'a str),
}

/// The email column of a full export, sorted.
pub fn emails(csv: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = headers
        .iter()
        .position(|h| h == "email")
        .expect("an email column");
    let mut emails: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[column].to_owned())
        .collect();
    emails.sort();
    emails
}

pub fn csv_path(slug: &str, query: &str) -> String {
    format!("/api/v1/campaigns/{slug}/signatures.csv{query}")
}

/// The session cookie a response sets (`rollcall_session=...`).
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rollcall_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Posts a form to a server function as a browser without JavaScript does.
pub async fn post_form(
    app: &TestApp,
    endpoint: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(&format!("/api/{endpoint}")))
        .header("Accept", "text/html")
        .header("Referer", app.url("/sign-in"))
        .form(form);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    request.send().await.unwrap()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Why a form was refused, as its redirect names it: the server function's error
/// variant (`Forbidden`, `Unreadable`, ...), so a test asserts the reason, not only that
/// there was one.
pub fn refusal(location: &str) -> String {
    // The refusal's own name; for the failures every form shares, the failure's.
    fn name(value: serde_json::Value) -> Option<String> {
        match value {
            serde_json::Value::String(name) => Some(name),
            serde_json::Value::Object(map) => {
                let (key, inner) = map.into_iter().next()?;
                if key == "Failed" {
                    name(inner)
                } else {
                    Some(key)
                }
            }
            _ => None,
        }
    }
    let error = refused_with(location);
    name(error.clone()).unwrap_or_else(|| error.to_string())
}

/// The whole error a refused form's redirect carries, as JSON: the refusal and its details.
pub fn refused_with(location: &str) -> serde_json::Value {
    let url = reqwest::Url::parse("http://rollcall.test/")
        .and_then(|base| base.join(location))
        .unwrap_or_else(|_| panic!("a location: {location}"));
    let Some(error) = url
        .query_pairs()
        .find(|(key, _)| key == "__err")
        .map(|(_, value)| value.into_owned())
    else {
        panic!("not refused: {location}");
    };
    use base64::Engine;
    let error = base64::engine::general_purpose::STANDARD
        .decode(&error)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or(error);
    serde_json::from_str(&error).unwrap_or(serde_json::Value::String(error))
}

/// The code an authenticator app shows for `secret` at `at` (seconds since 1970).
pub fn code(secret: &str, at: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(at as u64)
        .to_string()
}

/// Signs in with the password; returns the cookie and where the browser is sent next.
pub async fn password_step(app: &TestApp, email: &str, password: &str) -> (Option<String>, String) {
    let response = post_form(
        app,
        "sign_in",
        None,
        &[("email", email), ("password", password)],
    )
    .await;
    assert_eq!(response.status(), 302);
    (session_cookie(&response), location(&response))
}

/// Sets up the authenticator app from the two-factor page; the upgraded cookie and the
/// secret.
pub async fn enrol(app: &TestApp, cookie: &str) -> (String, String) {
    let page = app
        .http
        .get(app.url("/account/two-factor"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let needle = "data-testid=\"totp-secret\">";
    let start = page.find(needle).expect("the page shows the key") + needle.len();
    let secret = page[start..start + page[start..].find('<').unwrap()].to_owned();
    let response = post_form(
        app,
        "enrol",
        Some(cookie),
        &[("code", &code(&secret, Utc::now().timestamp()))],
    )
    .await;
    assert_eq!(
        location(&response),
        "/account",
        "the first code turns the app on"
    );
    (session_cookie(&response).expect("a new session"), secret)
}

/// A user holding `grant`, signed in with both factors; their cookie.
pub async fn signed_in(app: &TestApp, email: &str, grant: Grant) -> String {
    rollcall::accounts::create_user(&app.db, email, PASSWORD, &[grant], "test", Utc::now())
        .await
        .unwrap();
    let (cookie, next) = password_step(app, email, PASSWORD).await;
    assert_eq!(
        next, "/account/two-factor",
        "a new account sets up its app first"
    );
    enrol(app, &cookie.unwrap()).await.0
}

both_databases! {
    async fn api_keys_export_exactly_their_scope(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let organizer = key(&app, KeyFor::Campaign(PETITION)).await;
        let pledge_organizer = key(&app, KeyFor::Campaign(PLEDGE)).await;
        let officer_a = key(&app, KeyFor::Local(&f.local_a.to_string())).await;
        let officer_c = key(&app, KeyFor::Local(&f.local_c.to_string())).await;

        // The campaign's organizer: every confirmed signer, supporters included; never
        // the pending or the withdrawn.
        let (status, body) = export(&app, &csv_path(PETITION, ""), Auth::Key(&organizer)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(emails(&body), ["a1@example.org", "a2@example.org", "b1@example.org", "c1@example.org", "d1@example.org"]);
        // The officer of local A: local A only, however they filter.
        let (status, body) = export(&app, &csv_path(PETITION, ""), Auth::Key(&officer_a)).await;
        assert_eq!(status, 200);
        assert_eq!(emails(&body), ["a1@example.org", "a2@example.org"]);
        let (status, body) = export(&app, &csv_path(PETITION, "?union=utw"), Auth::Key(&officer_a)).await;
        assert_eq!((status, emails(&body)), (200, vec!["a1@example.org".to_owned(), "a2@example.org".to_owned()]));
        // Editing the URL to local B, or to the supporters, is refused.
        let other_local = csv_path(PETITION, &format!("?local={}", f.local_b));
        assert_eq!(export(&app, &other_local, Auth::Key(&officer_a)).await.0, 403);
        assert_eq!(export(&app, &csv_path(PETITION, "?local=community"), Auth::Key(&officer_a)).await.0, 403);
        assert_eq!(export(&app, &csv_path(PETITION, "?union=bna"), Auth::Key(&officer_a)).await.0, 403);
        // Another campaign's organizer, and an officer whose union does not sponsor it.
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&pledge_organizer)).await.0, 403);
        assert_eq!(export(&app, &csv_path(PLEDGE, ""), Auth::Key(&officer_c)).await.0, 403);
        // The organizer narrows by local and by the supporters.
        let (_, body) = export(&app, &csv_path(PETITION, &format!("?local={}", f.local_b)), Auth::Key(&organizer)).await;
        assert_eq!(emails(&body), ["b1@example.org"]);
        let (_, body) = export(&app, &csv_path(PETITION, "?local=community"), Auth::Key(&organizer)).await;
        assert_eq!(emails(&body), ["d1@example.org"]);

        // Nobody, a made-up key, a bad filter, a campaign that does not exist.
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::None).await.0, 401);
        let made_up = "x".repeat(43);
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&made_up)).await.0, 401);
        assert_eq!(export(&app, &csv_path(PETITION, "?status=pending"), Auth::Key(&organizer)).await.0, 400);
        assert_eq!(export(&app, &csv_path("no-such-campaign", ""), Auth::Key(&organizer)).await.0, 404);

        // Every export that started is in the audit log with the rows it promised.
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export'").await, 5);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND details LIKE '%\"rows\":5%'").await,
            1
        );

        // A revoked key opens nothing from then on.
        let id = access::list_keys(&app.db).await.unwrap().into_iter().find(|k| k.role == "organizer").unwrap().id;
        assert!(access::revoke_key(&app.db, id, Utc::now()).await.unwrap());
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&organizer)).await.0, 401);
        app.finish().await;
    }

    async fn an_export_neutralises_formulas_and_offers_the_organizing_preset(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let organizer = key(&app, KeyFor::Campaign(PETITION)).await;
        let response = app.http.get(app.url(&csv_path(PETITION, ""))).bearer_auth(&organizer).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["x-rollcall-rows"], "5");
        assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"joint-statement-demo-signatures-"));
        let body = response.text().await.unwrap();
        assert!(body.starts_with("signature_id,given_name,family_name,email,postal_code,phone,"), "{body}");
        assert!(body.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "a formula is neutralised and quoted: {body}");
        assert!(body.contains("'+1 312 555 0100"), "a leading + is neutralised");
        assert!(body.contains("Núñez"), "UTF-8 survives");
        assert!(body.contains("\r\n"), "RFC 4180 line ends");
        assert!(body.contains(",Community supporter,"), "supporters are named");

        // Compressed for a browser that asks: the stream ends cleanly (a stream polled
        // past its end once broke the download).
        let response = app.http.get(app.url(&csv_path(PETITION, ""))).bearer_auth(&organizer)
            .header("Accept-Encoding", "gzip").send().await.unwrap();
        assert_eq!(response.headers()["content-encoding"], "gzip");
        let gzipped = response.bytes().await.expect("the whole compressed body");
        assert_eq!(&gzipped[..2], &[0x1f, 0x8b]);

        let (_, body) = export(&app, &csv_path(PETITION, "?preset=organizing"), Auth::Key(&organizer)).await;
        assert!(body.starts_with("first_name,last_name,email,zip_code,phone,union,local,signed_at,confirmed_at\r\n"), "{body}");

        // Action Network's uploader: its field names, ours as custom fields after them,
        // the phone as digits (no formula guard needed), nobody subscribed.
        let (status, body) = export(&app, &csv_path(PETITION, "?preset=action_network"), Auth::Key(&organizer)).await;
        assert_eq!(status, 200);
        let mut lines = body.lines();
        assert_eq!(
            lines.next(),
            Some("first_name,last_name,email,zip_code,phone,union,local,local_id,verified_by,signed_at,confirmed_at,updates")
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 5, "the same confirmed signers: {body}");
        assert!(body.contains(",13125550100,"), "digits, country code first: {body}");
        assert!(!body.contains("'+1"), "nothing to neutralise: {body}");
        assert!(rows.iter().all(|row| row.ends_with(",no")), "nobody subscribed: {body}");
        assert!(rows.iter().all(|row| row.contains(",email,") || row.contains(",paper,")), "{body}");
        app.finish().await;
    }

    async fn a_union_organizer_sees_their_unions_locals_after_the_second_factor(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        rollcall::accounts::create_user(&app.db, "org@utw.example", PASSWORD, &[Grant::UnionOrganizer { union_id: f.utw }], "test", Utc::now())
            .await
            .unwrap();
        let (half, next) = password_step(&app, "org@utw.example", PASSWORD).await;
        let half = half.expect("a session cookie");
        assert_eq!(next, "/account/two-factor");
        // The password alone sees nothing.
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&half)).await.0, 401);
        let account = app.http.get(app.url("/account")).header("Cookie", &half).send().await.unwrap().text().await.unwrap();
        assert!(account.contains("needs-second-factor"));
        assert!(!account.contains("campaign-joint-statement-demo"), "no campaigns before the code");

        let (full, _) = enrol(&app, &half).await;
        let (status, body) = export(&app, &csv_path(PETITION, ""), Auth::Cookie(&full)).await;
        assert_eq!(status, 200);
        assert_eq!(emails(&body), ["a1@example.org", "a2@example.org", "b1@example.org"], "UTW's locals only, no supporters");
        assert_eq!(export(&app, &csv_path(PETITION, "?union=bna"), Auth::Cookie(&full)).await.0, 403);
        assert_eq!(export(&app, &csv_path(PETITION, &format!("?local={}", f.local_c)), Auth::Cookie(&full)).await.0, 403);
        assert_eq!(export(&app, &csv_path(PETITION, "?local=community"), Auth::Cookie(&full)).await.0, 403);
        // The session cookie from before the code is worth nothing now.
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&half)).await.0, 401);

        let account = app.http.get(app.url("/account")).header("Cookie", &full).send().await.unwrap().text().await.unwrap();
        assert!(account.contains("campaign-joint-statement-demo"), "{account}");
        app.finish().await;
    }

    async fn a_code_is_good_once_and_signing_out_everywhere_ends_every_session(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let first = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let secret = rollcall::entities::user::Entity::find()
            .one(&app.db).await.unwrap().unwrap().totp_secret.unwrap();

        // A second device: the password, then the code the enrolment already spent.
        let (cookie, next) = password_step(&app, "officer@example.org", PASSWORD).await;
        assert_eq!(next, "/sign-in/code");
        let cookie = cookie.unwrap();
        // The code of the step the enrolment spent, whatever the clock says now.
        let spent_step = app.count("SELECT totp_last_step FROM users").await;
        let spent = code(&secret, spent_step * 30);
        let response = post_form(&app, "check_code", Some(&cookie), &[("code", &spent)]).await;
        assert_ne!(location(&response), "/account", "a spent code is refused");
        assert!(session_cookie(&response).is_none());
        // The next code (the app's clock may run ahead by one step) is taken.
        let next_code = code(&secret, (spent_step + 1) * 30);
        let response = post_form(&app, "check_code", Some(&cookie), &[("code", &next_code)]).await;
        assert_eq!(location(&response), "/account");
        let second = session_cookie(&response).unwrap();
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&second)).await.0, 200);

        // Signing out everywhere from the first device ends the second too.
        let response = post_form(&app, "sign_out_everywhere", Some(&first), &[]).await;
        assert_eq!(location(&response), "/sign-in");
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&first)).await.0, 401);
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&second)).await.0, 401);

        // A lost phone: after an admin's reset the next sign-in sets up a new app.
        assert!(rollcall::accounts::reset_second_factor(&app.db, "officer@example.org", "test", Utc::now()).await.unwrap());
        let (cookie, next) = password_step(&app, "officer@example.org", PASSWORD).await;
        assert_eq!(next, "/account/two-factor");
        let (_, new_secret) = enrol(&app, &cookie.unwrap()).await;
        assert_ne!(new_secret, secret, "a new key");
        app.finish().await;
    }

    async fn wrong_passwords_lock_the_account_whatever_the_address(app: TestApp) with(|s: &mut server::Settings| s.sign_in_burst = 100) {
        rollcall::accounts::create_user(&app.db, "admin@example.org", PASSWORD, &[Grant::Admin], "test", Utc::now())
            .await
            .unwrap();
        let (cookie, unknown) = password_step(&app, "nobody@example.org", PASSWORD).await;
        assert!(cookie.is_none(), "an unknown address opens nothing");
        for _ in 0..10 {
            let (cookie, next) = password_step(&app, "admin@example.org", "not the password at all").await;
            assert!(cookie.is_none());
            assert!(next.contains("/sign-in?"), "back to the form: {next}");
        }
        // Locked: even the right password waits, and the answer is the unknown
        // address's, so nobody learns that the address has an account.
        let (cookie, next) = password_step(&app, "admin@example.org", PASSWORD).await;
        assert!(cookie.is_none(), "a locked account opens no session");
        assert_eq!(next, unknown);
        assert_eq!(app.count("SELECT CAST(failed_sign_ins AS BIGINT) FROM users").await, 10);
        app.finish().await;
    }

    async fn sign_in_attempts_from_one_address_are_limited(app: TestApp) with(|s: &mut server::Settings| s.sign_in_burst = 3) {
        for _ in 0..3 {
            let response = post_form(&app, "sign_in", None, &[("email", "x@example.org"), ("password", "wrong password!")]).await;
            assert_eq!(response.status(), 302);
        }
        let response = post_form(&app, "sign_in", None, &[("email", "x@example.org"), ("password", "wrong password!")]).await;
        assert_eq!(response.status(), 429);
        assert!(response.headers().contains_key("retry-after"));
        // A post from another site never reaches the password check.
        let response = app.http.post(app.url("/api/sign_in"))
            .header("Origin", "https://evil.example")
            .form(&[("email", "x@example.org"), ("password", "wrong password!")])
            .send().await.unwrap();
        assert_eq!(response.status(), 403);
        app.finish().await;
    }

    async fn an_admin_invites_an_officer_who_takes_the_role_once(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        let account = app.http.get(app.url("/account")).header("Cookie", &admin).send().await.unwrap().text().await.unwrap();
        let choice = format!("local:{}", f.local_a);
        assert!(account.contains(&format!("value=\"{choice}\"")), "the admin can invite an officer of local A");

        // The same page for an admin whose browser reads Spanish: roles and choices too.
        let spanish = app.http.get(app.url("/account")).header("Cookie", &admin).header("Accept-Language", "es").send().await.unwrap().text().await.unwrap();
        for words in ["<h1>Su cuenta</h1>", "administrador/a", "Administrador/a (acceso completo)", ">Cerrar sesión</button>", "todos los firmantes"] {
            assert!(spanish.contains(words), "{words}");
        }
        assert!(!spanish.contains("Sign out") && !spanish.contains("all signers"), "no English left");

        let response = post_form(&app, "invite", Some(&admin), &[("email", "Officer@Example.org"), ("role", &choice)]).await;
        assert_eq!(location(&response), "/account?invited=1");
        let mail = app.wait_for_mails(1, WAIT).await.remove(0);
        assert_eq!(mail.to, "officer@example.org");
        let link = mail.link("/invite/").expect("an invitation link");
        assert!(link.ends_with("?lang=en"), "the invitation is in the admin's page language: {link}");
        let token = token_of(&link).to_owned();

        // A password too short is refused and spends nothing.
        let response = post_form(&app, "accept_invitation", None, &[("token", &token), ("password", "short")]).await;
        assert!(session_cookie(&response).is_none());
        let response = post_form(&app, "accept_invitation", None, &[("token", &token), ("password", PASSWORD)]).await;
        assert_eq!(location(&response), "/account/two-factor");
        let (cookie, _) = enrol(&app, &session_cookie(&response).unwrap()).await;
        let (status, body) = export(&app, &csv_path(PETITION, ""), Auth::Cookie(&cookie)).await;
        assert_eq!((status, emails(&body)), (200, vec!["a1@example.org".to_owned(), "a2@example.org".to_owned()]));

        // The link is spent; the page says so.
        let response = post_form(&app, "accept_invitation", None, &[("token", &token), ("password", PASSWORD)]).await;
        assert!(session_cookie(&response).is_none());
        let page = app.http.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 410);
        // Only an admin invites.
        let response = post_form(&app, "invite", Some(&cookie), &[("email", "x@example.org"), ("role", "admin")]).await;
        assert_ne!(location(&response), "/account?invited=1");
        assert_eq!(app.count("SELECT COUNT(*) FROM invitations").await, 1);

        // Inviting an address that has an account adds the role and opens no session:
        // the link does not prove the password.
        let role_b = format!("local:{}", f.local_b);
        // This one the admin writes in Spanish.
        post_form(&app, "invite", Some(&admin), &[("email", "officer@example.org"), ("role", &role_b), ("lang", "es")]).await;
        let mail = app.wait_for_mails(2, WAIT).await.remove(1);
        assert_eq!(mail.subject, "Su cuenta de Rollcall");
        assert!(mail.text.contains("Le invitaron a ayudar"), "{}", mail.text);
        let link = mail.link("/invite/").expect("a second invitation");
        assert!(link.ends_with("?lang=es"), "{link}");
        let page = app.http.get(&link).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<html lang=\"es\""), "the link opens the page in Spanish");
        let token = token_of(&link).to_owned();
        let response = post_form(&app, "accept_invitation", None, &[("token", &token), ("password", "")]).await;
        assert_eq!(location(&response), "/sign-in?role_added=1");
        assert!(session_cookie(&response).is_none());
        assert_eq!(app.count("SELECT COUNT(*) FROM role_grants WHERE user_id = (SELECT id FROM users WHERE email = 'officer@example.org')").await, 2);
        app.finish().await;
    }
}

/// The command line bootstraps the first admin from stdin and prints an API key as the
/// last word of its last line.
#[tokio::test]
async fn the_command_line_makes_the_first_admin_and_api_keys() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
            .args(["--config", "/nonexistent.toml"])
            .args(args)
            .env("DATABASE_URL", &database)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(
        &["admin", "create", "--email", "first@example.org"],
        "short\n",
    );
    assert!(!ok, "a short password is refused");
    assert!(err.contains("12 characters"), "{err}");
    let (ok, out, err) = run(
        &["admin", "create", "--email", "first@example.org"],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("admin 1 created"), "{out}");
    let (ok, _, _) = run(&["demo"], "");
    assert!(ok);
    let (ok, out, err) = run(
        &[
            "api-key",
            "create",
            "--role",
            "organizer",
            "--campaign",
            PETITION,
            "--label",
            "crm",
        ],
        "",
    );
    assert!(ok, "{err}");
    let key = out
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap();
    assert_eq!(key.len(), 43);
    let (ok, _, err) = run(&["api-key", "create", "--role", "officer"], "");
    assert!(!ok, "an officer's key names its local");
    assert!(err.contains("--local"), "{err}");
    let (ok, out, _) = run(&["api-key", "list"], "");
    assert!(
        ok && out.contains("organizer") && out.contains("crm") && out.contains("live"),
        "{out}"
    );
    // A lost authenticator: reset from the command line, audited.
    let (ok, out, err) = run(
        &[
            "admin",
            "reset-second-factor",
            "--email",
            "first@example.org",
            "--by",
            "ops",
        ],
        "",
    );
    assert!(ok && out.contains("reset"), "{out}{err}");
    let (ok, _, err) = run(
        &[
            "admin",
            "reset-second-factor",
            "--email",
            "nobody@example.org",
            "--by",
            "ops",
        ],
        "",
    );
    assert!(!ok && err.contains("no account"), "{err}");
    let (ok, out, _) = run(&["api-key", "revoke", "1"], "");
    assert!(ok && out.contains("revoked"), "{out}");
    let (_, out, _) = run(&["api-key", "list"], "");
    assert!(out.contains("revoked 20"), "{out}");
}
