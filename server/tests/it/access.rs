//! Access that cannot be guessed and can be taken back (issue 27, items 2, 3 and 5), each
//! test written as the attack it stops: guessing codes, guessing in parallel, telling a
//! locked account from an unknown one, keeping a session or a key after access is taken
//! back, a union's organizer reaching another union's locals, the password alone showing
//! the account.

use std::time::Duration;

use chrono::Utc;
use rollcall::{
    accounts::access::{Caller, KeyFor},
    accounts::revoking::{self, Why},
    accounts::{self, CodeError, SessionUser, SignInError},
    domain::{Grant, TotpCode},
};
use sea_orm::EntityTrait;

use crate::accounts::{
    Auth, PASSWORD, PETITION, PLEDGE, WAIT, code, csv_path, emails, export, fixture, key, location,
    password_step, post_form, seed_petition, session_cookie, signed_in,
};
use crate::both_databases;
use crate::harness::{Backend, TestApp};

/// The TOTP secret of the only account with one enrolled.
async fn secret_of(app: &TestApp, email: &str) -> String {
    rollcall::entities::user::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .and_then(|u| u.totp_secret)
        .expect("an enrolled account")
}

/// A code no authenticator shows around now (nor at the next steps).
fn wrong_code(secret: &str) -> String {
    let now = Utc::now().timestamp();
    let shown: Vec<String> = (-3..=3).map(|step| code(secret, now + step * 30)).collect();
    (0..1_000_000)
        .map(|n| format!("{:06}", (n * 7919 + 12345) % 1_000_000))
        .find(|candidate| !shown.contains(candidate))
        .unwrap()
}

/// A code the account has not spent yet that the server takes now.
async fn fresh_code(app: &TestApp, email: &str, secret: &str) -> String {
    let spent = app
        .count(&format!(
            "SELECT COALESCE(totp_last_step, 0) FROM users WHERE email = '{email}'"
        ))
        .await;
    let now_step = Utc::now().timestamp() / 30;
    code(secret, Ord::max(spent + 1, now_step) * 30)
}

/// The code step, as the browser posts it; whether it opened a full session.
async fn give_code(app: &TestApp, cookie: &str, code: &str) -> Option<String> {
    let response = post_form(app, "check_code", Some(cookie), &[("code", code)]).await;
    (location(&response) == "/account")
        .then(|| session_cookie(&response))
        .flatten()
}

fn person(user_id: i64, grants: Vec<Grant>) -> Caller {
    Caller::User(SessionUser {
        user_id,
        email: format!("user{user_id}@example.org"),
        second_factor: true,
        totp_enabled: true,
        grants,
    })
}

/// A JSON server function called as a program would (no `Accept: text/html`).
async fn call_json(
    app: &TestApp,
    endpoint: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = app
        .http
        .post(app.url(&format!("/api/{endpoint}")))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

const MANY: fn(&mut server::Settings) = |s| s.sign_in_burst = 200;

both_databases! {
    async fn five_wrong_codes_end_the_session_and_the_right_code_after_them_is_refused(app: TestApp) with(MANY) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let secret = secret_of(&app, "officer@example.org").await;
        let (half, next) = password_step(&app, "officer@example.org", PASSWORD).await;
        assert_eq!(next, "/sign-in/code");
        let half = half.unwrap();
        for _ in 0..5 {
            assert!(give_code(&app, &half, &wrong_code(&secret)).await.is_none());
        }
        // Before: the sixth try, with the right code, opened the session.
        let right = fresh_code(&app, "officer@example.org", &secret).await;
        assert!(give_code(&app, &half, &right).await.is_none(), "the right code after five wrong ones is refused");
        assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE second_factor = false").await, 0, "the half-signed session is gone");
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&half)).await.0, 401);

        // The person starts again with the password, and the right code opens the session.
        let (again, _) = password_step(&app, "officer@example.org", PASSWORD).await;
        let full = give_code(&app, &again.unwrap(), &right).await.expect("a new session takes the code");
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&full)).await.0, 200);
        app.finish().await;
    }

    async fn ten_wrong_codes_in_an_hour_lock_the_account_and_tell_its_owner(app: TestApp) with(MANY) {
        let f = fixture(&app).await;
        signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let secret = secret_of(&app, "officer@example.org").await;
        // Two half-signed sessions, five wrong codes each: someone holds the password.
        for _ in 0..2 {
            let (half, _) = password_step(&app, "officer@example.org", PASSWORD).await;
            let half = half.unwrap();
            for _ in 0..5 {
                assert!(give_code(&app, &half, &wrong_code(&secret)).await.is_none());
            }
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.lock_wrong_codes'").await, 1);
        let mail = app.wait_for_mails(1, WAIT).await.remove(0);
        assert_eq!(mail.to, "officer@example.org");
        assert!(mail.subject.contains("locked"), "{}", mail.subject);
        assert!(mail.text.contains("15 minutes"), "{}", mail.text);

        // Locked: the right password answers as an unknown address does.
        let (_, unknown) = password_step(&app, "nobody@example.org", PASSWORD).await;
        let (cookie, next) = password_step(&app, "officer@example.org", PASSWORD).await;
        assert!(cookie.is_none(), "a locked account opens no session");
        assert_eq!(next, unknown);

        // Until an admin enables it (or 15 minutes pass).
        revoking::enable(&app.db, "officer@example.org", Why { by: "ops", reason: "it was me" }, Utc::now()).await.unwrap();
        let (half, _) = password_step(&app, "officer@example.org", PASSWORD).await;
        let right = fresh_code(&app, "officer@example.org", &secret).await;
        assert!(give_code(&app, &half.unwrap(), &right).await.is_some());
        app.finish().await;
    }

    async fn parallel_wrong_codes_and_passwords_cannot_pass_the_limits(app: TestApp) {
        let f = fixture(&app).await;
        signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let secret = secret_of(&app, "officer@example.org").await;
        let wrong = TotpCode::parse(&wrong_code(&secret)).unwrap();
        // Three half-signed sessions, eight guesses each, all at once: 24 guesses.
        let mut tokens = Vec::new();
        for _ in 0..3 {
            let signed = accounts::sign_in(&app.db, "officer@example.org", PASSWORD, Utc::now()).await.unwrap();
            tokens.push(signed.token.as_str().to_owned());
        }
        let guesses = tokens.iter().flat_map(|token| (0..8).map(move |_| token.clone())).map(|token| {
            let db = app.db.clone();
            let wrong = wrong.clone();
            tokio::spawn(async move { accounts::verify_code(&db, &token, &wrong, Utc::now()).await })
        });
        let answers = futures::future::join_all(guesses).await;
        let checked = answers.iter().filter(|a| matches!(a, Ok(Err(CodeError::Wrong | CodeError::WrongAndLocked)))).count();
        assert!(checked <= 10, "{checked} codes were checked; ten at most may be");
        assert!(answers.iter().all(|a| matches!(a, Ok(Err(CodeError::Wrong | CodeError::WrongAndLocked | CodeError::NoSession)))));
        let locking: Vec<_> = answers.iter().filter(|a| matches!(a, Ok(Err(CodeError::WrongAndLocked)))).collect();
        assert_eq!(locking.len(), 1, "one answer says it locked, and so rings for the mail");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.lock_wrong_codes'").await, 1, "locked once");
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'account_locked'").await, 1, "one mail");
        assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE second_factor = false").await, 0);

        // Thirty wrong passwords at once count no further than ten.
        revoking::enable(&app.db, "officer@example.org", Why { by: "ops", reason: "test" }, Utc::now()).await.unwrap();
        let guesses = (0..30).map(|_| {
            let db = app.db.clone();
            tokio::spawn(async move { accounts::sign_in(&db, "officer@example.org", "not the password at all", Utc::now()).await })
        });
        for answer in futures::future::join_all(guesses).await {
            assert!(matches!(answer, Ok(Err(SignInError::Wrong))));
        }
        assert_eq!(app.count("SELECT CAST(failed_sign_ins AS BIGINT) FROM users WHERE email = 'officer@example.org'").await, 10);
        assert!(matches!(
            accounts::sign_in(&app.db, "officer@example.org", PASSWORD, Utc::now()).await,
            Err(SignInError::Wrong)
        ), "the right password waits out the lock");
        app.finish().await;
    }

    async fn a_locked_account_and_an_unknown_one_answer_alike(app: TestApp) with(MANY) {
        accounts::create_user(&app.db, "admin@example.org", PASSWORD, &[Grant::Admin], "test", Utc::now()).await.unwrap();
        for _ in 0..10 {
            password_step(&app, "admin@example.org", "not the password at all").await;
        }
        let ask = |email: &'static str| {
            let app = &app;
            async move {
                let started = std::time::Instant::now();
                let response = post_form(app, "sign_in", None, &[("email", email), ("password", PASSWORD)]).await;
                (response.status().as_u16(), location(&response), session_cookie(&response), started.elapsed())
            }
        };
        let (locked_status, locked_next, locked_cookie, locked_took) = ask("admin@example.org").await;
        let (unknown_status, unknown_next, unknown_cookie, unknown_took) = ask("nobody@example.org").await;
        assert_eq!((locked_status, &locked_next, &locked_cookie), (unknown_status, &unknown_next, &unknown_cookie));
        // Both hash a password (the unknown one a decoy), so neither answers at once.
        let floor = Duration::from_millis(5);
        assert!(locked_took > floor && unknown_took > floor, "{locked_took:?} {unknown_took:?}");
        app.finish().await;
    }

    async fn a_disabled_accounts_cookie_and_the_api_keys_it_made_stop_on_the_next_request(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let cookie = signed_in(&app, "organizer@example.org", Grant::CampaignOrganizer { campaign_id: f.petition }).await;
        let (status, made) = call_json(&app, "create_api_key", &cookie, &[("role", &format!("campaign:{}", f.petition)), ("label", "crm")]).await;
        assert_eq!(status, 200, "{made}");
        let their_key: String = serde_json::from_str(&made).unwrap();
        // A key for a campaign they do not organize is refused.
        let (status, _) = call_json(&app, "create_api_key", &cookie, &[("role", &format!("local:{}", f.local_a))]).await;
        assert_ne!(status, 200);
        let command_line_key = key(&app, KeyFor::Campaign(PETITION)).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM api_keys WHERE created_by IS NOT NULL").await, 1);
        for auth in [Auth::Cookie(&cookie), Auth::Key(&their_key), Auth::Key(&command_line_key)] {
            assert_eq!(export(&app, &csv_path(PETITION, ""), auth).await.0, 200);
        }

        revoking::disable(&app.db, "organizer@example.org", Why { by: "ops", reason: "left the union staff" }, Utc::now()).await.unwrap();
        // Before: the cookie and the key kept exporting.
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&cookie)).await.0, 401);
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&their_key)).await.0, 401);
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&command_line_key)).await.0, 200, "a key made on the command line answers to nobody's account");
        let (cookie_again, _) = password_step(&app, "organizer@example.org", PASSWORD).await;
        assert!(cookie_again.is_none(), "a disabled account signs in no more");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.disable' AND reason = 'left the union staff'").await, 1);

        revoking::enable(&app.db, "organizer@example.org", Why { by: "ops", reason: "back" }, Utc::now()).await.unwrap();
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&their_key)).await.0, 200);
        app.finish().await;
    }

    async fn a_revoked_grants_session_and_keys_are_refused(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let (_, made) = call_json(&app, "create_api_key", &officer, &[("role", &format!("local:{}", f.local_a))]).await;
        let officer_key: String = serde_json::from_str(&made).unwrap();
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&officer_key)).await.0, 200);

        // Only an admin takes a role back, with a reason, from /account.
        let role = format!("local:{}", f.local_a);
        let page = app.http.get(app.url("/account")).header("Cookie", &admin).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("name=\"reason\""), "the admin's page has the form");
        let response = post_form(&app, "revoke_grant", Some(&officer), &[("email", "admin@example.org"), ("role", "admin"), ("reason", "x")]).await;
        assert_ne!(location(&response), "/account?revoked=1");
        let response = post_form(&app, "revoke_grant", Some(&admin), &[("email", "officer@example.org"), ("role", &role), ("reason", "")]).await;
        assert_ne!(location(&response), "/account?revoked=1", "no reason, no revocation");
        let response = post_form(&app, "revoke_grant", Some(&admin), &[("email", "officer@example.org"), ("role", &role), ("reason", "stepped down")]).await;
        assert_eq!(location(&response), "/account?revoked=1");

        // Before: the session and the key kept their grant until they ended by themselves.
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&officer)).await.0, 401);
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Key(&officer_key)).await.0, 401);
        let (half, _) = password_step(&app, "officer@example.org", PASSWORD).await;
        let secret = secret_of(&app, "officer@example.org").await;
        let full = give_code(&app, &half.unwrap(), &fresh_code(&app, "officer@example.org", &secret).await).await.unwrap();
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&full)).await.0, 403, "signed in again, without the role");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.revoke' AND reason = 'stepped down'").await, 1);
        app.finish().await;
    }

    async fn a_union_organizer_cannot_moderate_or_count_another_unions_locals(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let bna = app.count("SELECT id FROM unions WHERE slug = 'bna'").await;
        // An organizer for BNA who is also the officer of UTW's local A.
        let both = person(1, vec![Grant::UnionOrganizer { union_id: bna }, Grant::Officer { local_id: f.local_a }]);
        // Before: any union grant made its holder an organizer of every signer they saw.
        let refused = rollcall::organizing::moderation::moderate(&app.db, &both, PETITION, "a1@example.org", rollcall::organizing::moderation::Action::Invalidate, "fraud", Utc::now()).await;
        assert!(matches!(refused, Err(rollcall::organizing::moderation::ModerationError::Forbidden | rollcall::organizing::moderation::ModerationError::NotFound)), "{refused:?}");
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE email = 'a1@example.org' AND status = 'confirmed'").await, 1);
        // Their own union's local: yes.
        rollcall::organizing::moderation::moderate(&app.db, &both, PETITION, "c1@example.org", rollcall::organizing::moderation::Action::Invalidate, "fraud", Utc::now()).await.unwrap();

        // On the pledge BNA does not sponsor, they are local A's officer and no more.
        let dashboard = rollcall::organizing::dashboards::campaign_dashboard(&app.db, &both, PLEDGE).await.unwrap();
        assert!(!dashboard.can_moderate);
        assert_eq!(dashboard.locals.iter().map(|l| l.local_id).collect::<Vec<_>>(), [f.local_a], "no other local's count");

        // Over HTTP: a BNA organizer exports no UTW local, and strikes none off.
        let organizer = signed_in(&app, "org@bna.example", Grant::UnionOrganizer { union_id: bna }).await;
        let (status, body) = export(&app, &csv_path(PETITION, ""), Auth::Cookie(&organizer)).await;
        assert_eq!((status, emails(&body)), (200, Vec::<String>::new()), "c1 was struck off above");
        assert_eq!(export(&app, &csv_path(PETITION, &format!("?local={}", f.local_a)), Auth::Cookie(&organizer)).await.0, 403);
        let response = post_form(&app, "moderate", Some(&organizer), &[("slug", PETITION), ("email", "b1@example.org"), ("action", "invalidate"), ("reason", "fraud")]).await;
        assert_ne!(location(&response), format!("/account/c/{PETITION}?moderated=1"));
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE email = 'b1@example.org' AND status = 'confirmed'").await, 1);
        app.finish().await;
    }

    async fn the_password_alone_shows_nothing_of_the_account_but_its_name(app: TestApp) {
        let f = fixture(&app).await;
        accounts::create_user(&app.db, "admin@example.org", PASSWORD, &[Grant::Admin, Grant::Officer { local_id: f.local_a }], "test", Utc::now()).await.unwrap();
        let (half, _) = password_step(&app, "admin@example.org", PASSWORD).await;
        let half = half.unwrap();
        let (status, body) = call_json(&app, "account", &half, &[]).await;
        assert_eq!(status, 200, "{body}");
        let view: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(view["email"], "admin@example.org");
        assert_eq!(view["needs_second_factor"], true);
        for list in ["roles", "campaigns", "locals", "invite_choices"] {
            assert_eq!(view[list], serde_json::json!([]), "{list}: {body}");
        }
        let page = app.http.get(app.url("/account")).header("Cookie", &half).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("admin@example.org") && page.contains("needs-second-factor"));
        assert!(!page.contains("name=\"reason\"") && !page.contains("invite-email") && !page.contains("data-testid=\"locals\""), "{page}");
        app.finish().await;
    }

    async fn a_recovery_code_stands_in_for_the_app_once(app: TestApp) with(MANY) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let cookie = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let (status, body) = call_json(&app, "recovery_codes", &cookie, &[]).await;
        assert_eq!(status, 200, "{body}");
        let codes: Vec<String> = serde_json::from_str(&body).unwrap();
        assert_eq!(codes.len(), 10);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM recovery_codes WHERE code_hash LIKE '%{}%'", &codes[0][..5])).await, 0, "stored hashed");

        let (half, _) = password_step(&app, "officer@example.org", PASSWORD).await;
        let full = give_code(&app, &half.unwrap(), &codes[0].to_uppercase()).await.expect("a recovery code opens the session");
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&full)).await.0, 200);
        let (half, _) = password_step(&app, "officer@example.org", PASSWORD).await;
        let half = half.unwrap();
        assert!(give_code(&app, &half, &codes[0]).await.is_none(), "once only");
        assert!(give_code(&app, &half, &codes[1]).await.is_some());
        app.finish().await;
    }

    async fn a_forced_password_reset_ends_the_sessions_and_mails_a_link_for_a_new_one(app: TestApp) with(MANY) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let secret = secret_of(&app, "officer@example.org").await;
        let response = post_form(&app, "force_password_reset", Some(&officer), &[("email", "admin@example.org"), ("reason", "x")]).await;
        assert_ne!(location(&response), "/account?reset=1", "only an admin resets");
        let response = post_form(&app, "force_password_reset", Some(&admin), &[("email", "officer@example.org"), ("reason", "phished")]).await;
        assert_eq!(location(&response), "/account?reset=1");
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&officer)).await.0, 401);
        assert!(password_step(&app, "officer@example.org", PASSWORD).await.0.is_none(), "the old password is void");

        let mail = app.wait_for_mails(1, WAIT).await.remove(0);
        assert_eq!(mail.to, "officer@example.org");
        let link = mail.link("/invite/").expect("a link to set a new password");
        let token = crate::harness::token_of(&link).to_owned();
        let new = "a brand new long password";
        let response = post_form(&app, "accept_invitation", None, &[("token", &token), ("password", new)]).await;
        assert_eq!(location(&response), "/sign-in/code", "the authenticator app stays");
        let full = give_code(&app, &session_cookie(&response).unwrap(), &fresh_code(&app, "officer@example.org", &secret).await).await.unwrap();
        assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(&full)).await.0, 200);
        assert_eq!(app.count("SELECT COUNT(*) FROM role_grants WHERE user_id = (SELECT id FROM users WHERE email = 'officer@example.org')").await, 1, "no second grant");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.force_password_reset' AND reason = 'phished'").await, 1);
        app.finish().await;
    }

    async fn changing_the_password_ends_every_session(app: TestApp) with(MANY) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let first = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let secret = secret_of(&app, "officer@example.org").await;
        let (half, _) = password_step(&app, "officer@example.org", PASSWORD).await;
        let second = give_code(&app, &half.unwrap(), &fresh_code(&app, "officer@example.org", &secret).await).await.unwrap();
        let new = "another long enough password";
        let response = post_form(&app, "change_password", Some(&first), &[("current", "not the password"), ("new", new)]).await;
        assert_ne!(location(&response), "/sign-in", "the current password is needed");
        let response = post_form(&app, "change_password", Some(&first), &[("current", PASSWORD), ("new", new)]).await;
        assert_eq!(location(&response), "/sign-in");
        for cookie in [&first, &second] {
            assert_eq!(export(&app, &csv_path(PETITION, ""), Auth::Cookie(cookie)).await.0, 401);
        }
        assert!(password_step(&app, "officer@example.org", PASSWORD).await.0.is_none());
        assert!(password_step(&app, "officer@example.org", new).await.0.is_some());
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.password_change'").await, 1);
        app.finish().await;
    }
}

/// `rollcall admin disable`, `enable` and `revoke` on the command line, each audited.
#[tokio::test]
async fn the_command_line_disables_enables_and_revokes() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rollcall"))
            .args(["--config", "/nonexistent.toml"])
            .args(args)
            .env("DATABASE_URL", &database)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    assert!(run(&["demo"]).0);
    let db = sea_orm::Database::connect(&database).await.unwrap();
    let utw = rollcall::entities::union::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.slug == "utw")
        .unwrap()
        .id;
    accounts::create_user(
        &db,
        "org@example.org",
        PASSWORD,
        &[Grant::Admin, Grant::UnionOrganizer { union_id: utw }],
        "test",
        Utc::now(),
    )
    .await
    .unwrap();

    let (ok, out) = run(&[
        "admin",
        "disable",
        "--email",
        "org@example.org",
        "--by",
        "ops",
    ]);
    assert!(!ok, "a reason is required: {out}");
    for args in [
        [
            "admin",
            "reset-password",
            "--email",
            "org@example.org",
            "--by",
            "ops",
            "--reason",
            "phished",
        ]
        .as_slice(),
        &[
            "admin",
            "disable",
            "--email",
            "org@example.org",
            "--by",
            "ops",
            "--reason",
            "left",
        ],
        &[
            "admin",
            "enable",
            "--email",
            "org@example.org",
            "--by",
            "ops",
            "--reason",
            "back",
        ],
        &[
            "admin",
            "revoke",
            "--email",
            "org@example.org",
            "--role",
            "organizer",
            "--union",
            "utw",
            "--by",
            "ops",
            "--reason",
            "moved",
        ],
        &[
            "admin",
            "revoke",
            "--email",
            "org@example.org",
            "--role",
            "admin",
            "--by",
            "ops",
            "--reason",
            "moved",
        ],
    ] {
        let (ok, out) = run(args);
        assert!(ok, "{args:?}: {out}");
    }
    let (ok, out) = run(&[
        "admin",
        "revoke",
        "--email",
        "org@example.org",
        "--role",
        "admin",
        "--by",
        "ops",
        "--reason",
        "again",
    ]);
    assert!(!ok && out.contains("does not hold"), "{out}");
    let (ok, out) = run(&[
        "admin",
        "disable",
        "--email",
        "nobody@example.org",
        "--by",
        "ops",
        "--reason",
        "x",
    ]);
    assert!(!ok && out.contains("no account"), "{out}");
    assert!(accounts::grants_of(&db, 1).await.unwrap().is_empty());
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    let audited = rollcall::entities::audit::Entity::find()
        .filter(rollcall::entities::audit::Column::Action.is_in([
            "user.force_password_reset",
            "user.disable",
            "user.enable",
            "user.revoke",
        ]))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(audited, 5);
}
