//! What officers and organizers do once signed in: member counts with their history,
//! paper sign-up sheets, and the dashboards, each refused outside the caller's scope.

use chrono::Utc;
use rollcall::domain::Grant;

use crate::accounts::{
    Auth, PETITION, PLEDGE, csv_path, emails, export, fixture, location, post_form, seed_petition,
    signed_in,
};
use crate::both_databases;
use crate::harness::{Backend, TestApp};

async fn page(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let response = app
        .http
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

both_databases! {
    async fn an_officer_keeps_the_member_count_and_sees_the_share_move(app: TestApp) {
        let f = fixture(&app).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let today = Utc::now().date_naive().to_string();
        let local = f.local_a.to_string();

        let response = post_form(&app, "set_member_count", Some(&officer), &[("local_id", &local), ("member_count", "4"), ("as_of", &today)]).await;
        assert_eq!(location(&response), format!("/local/{local}?saved=1"));
        assert_eq!(app.count(&format!("SELECT member_count FROM locals WHERE id = {local}")).await, 4);
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM member_counts WHERE local_id = {local} AND recorded_by LIKE 'user:%officer@example.org'")).await,
            1,
            "the history names who set it"
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'local.member_count'").await, 1);

        // Bad counts, a future date, and another local's count change nothing.
        let tomorrow = (Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
        for (count, date) in [("0", today.as_str()), ("many", today.as_str()), ("5", tomorrow.as_str())] {
            let response = post_form(&app, "set_member_count", Some(&officer), &[("local_id", &local), ("member_count", count), ("as_of", date)]).await;
            assert_eq!(crate::accounts::refusal(&location(&response)), "InvalidMemberCount", "{count} {date}");
        }
        let other = f.local_b.to_string();
        let response = post_form(&app, "set_member_count", Some(&officer), &[("local_id", &other), ("member_count", "9"), ("as_of", &today)]).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Forbidden");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'local.member_count'").await, 1);

        // One paper signature: 1 of 4 members.
        let response = post_form(&app, "enter_paper", Some(&officer), &[
            ("local_id", &local), ("slug", PETITION), ("given_name", "Rosa"), ("family_name", "Parks"),
        ]).await;
        assert_eq!(location(&response), format!("/local/{local}?entered=1"));
        let (status, html) = page(&app, &format!("/local/{local}"), &officer).await;
        assert_eq!(status, 200);
        let section = html.split("data-testid=\"progress-joint-statement-demo\"").nth(1).expect("the petition's progress");
        assert!(section.contains("data-testid=\"share\">25%"), "{section}");
        assert!(section.contains("Rosa Parks"), "the officer sees their own signers");

        // Another local's page is not theirs.
        let (status, _) = page(&app, &format!("/local/{other}"), &officer).await;
        assert_eq!(status, 403);
        app.finish().await;
    }

    async fn a_paper_sheet_is_all_or_nothing_counted_and_exported_apart(app: TestApp) {
        let f = fixture(&app).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let local = f.local_a.to_string();
        let bad = "given_name,family_name,email,postal_code,phone,employer\n\
                   Ana,Ruiz,ana@example.org,60601,,\n\
                   ,Lee,lee@example.org,,,\n";
        let response = post_form(&app, "upload_paper", Some(&officer), &[("local_id", &local), ("slug", PETITION), ("sheet", bad)]).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "PaperLines");
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 0, "a sheet with a bad line writes nothing");

        let good = "given_name,family_name,email,postal_code,phone,employer\n\
                    Ana,Ruiz,ana@example.org,60601,,\n\
                    Kim,Lee,,,+1 312 555 0101,\n\
                    Sam,Ortiz,sam@example.org,,,\"Acme, Inc.\"\n";
        let response = post_form(&app, "upload_paper", Some(&officer), &[("local_id", &local), ("slug", PETITION), ("sheet", good)]).await;
        assert_eq!(location(&response), format!("/local/{local}?entered=3"));
        // The same person again (their address in another form) answers like anyone
        // new and counts until an organizer reviews it (oracles.rs).
        let again = "given_name,family_name,email\nAna,Ruiz,ANA@example.org\n";
        let response = post_form(&app, "upload_paper", Some(&officer), &[("local_id", &local), ("slug", PETITION), ("sheet", again)]).await;
        assert_eq!(location(&response), format!("/local/{local}?entered=1"));
        assert_eq!(app.count("SELECT COUNT(*) FROM paper_collisions").await, 1);
        assert_eq!(app.tally(PETITION).await["total"], 4, "paper signatures are counted");

        let (status, body) = export(&app, &csv_path(PETITION, "?status=paper"), Auth::Cookie(&officer)).await;
        assert_eq!(status, 200);
        assert_eq!(body.matches("paper, entered by user:").count(), 4, "{body}");
        assert!(body.contains("\"Acme, Inc.\""));
        let (_, body) = export(&app, &csv_path(PETITION, "?status=email"), Auth::Cookie(&officer)).await;
        assert!(emails(&body).is_empty());

        // Not for another local, nor for a campaign the local's union does not sponsor.
        let other = f.local_b.to_string();
        let response = post_form(&app, "upload_paper", Some(&officer), &[("local_id", &other), ("slug", PETITION), ("sheet", good)]).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Forbidden");
        let bna = signed_in(&app, "bna@example.org", Grant::Officer { local_id: f.local_c }).await;
        let c = f.local_c.to_string();
        let response = post_form(&app, "upload_paper", Some(&bna), &[("local_id", &c), ("slug", PLEDGE), ("sheet", good)]).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "NotSigning");
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures").await, 4);
        app.finish().await;
    }

    async fn a_campaign_dashboard_counts_by_status_within_the_scope(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let campaign_id = f.petition;
        let organizer = signed_in(&app, "org@example.org", Grant::CampaignOrganizer { campaign_id }).await;
        let (status, html) = page(&app, &format!("/account/c/{PETITION}"), &organizer).await;
        assert_eq!(status, 200);
        assert!(html.contains("data-testid=\"status-confirmed\">5<"), "{html}");
        assert!(html.contains("<dt>Pending</dt><dd>1</dd>"), "{html}");
        assert!(html.contains("<dt>Withdrawn</dt><dd>1</dd>"));
        assert!(html.contains("Community supporters"));

        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let (status, html) = page(&app, &format!("/account/c/{PETITION}"), &officer).await;
        assert_eq!(status, 200);
        assert!(html.contains("data-testid=\"status-confirmed\">2<"), "an officer counts their own local: {html}");
        assert!(!html.contains("Community supporters"));
        assert!(!html.contains(&format!("id=\"local-{}\"", f.local_c)), "and lists only it");

        let pledge_id = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PLEDGE}'")).await;
        let stranger = signed_in(&app, "pledge@example.org", Grant::CampaignOrganizer { campaign_id: pledge_id }).await;
        assert_eq!(page(&app, &format!("/account/c/{PETITION}"), &stranger).await.0, 403);
        assert_eq!(page(&app, &format!("/account/c/{PETITION}"), "rollcall_session=nothing").await.0, 401);
        app.finish().await;
    }

    async fn an_organizer_invalidates_and_restores_one_signature_and_the_tally_follows(app: TestApp) {
        let f = fixture(&app).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let local = f.local_a.to_string();
        let sheet = "given_name,family_name,email\nAna,Ruiz,ana@example.org\nKim,Lee,kim@example.org\n";
        post_form(&app, "upload_paper", Some(&officer), &[("local_id", &local), ("slug", PETITION), ("sheet", sheet)]).await;
        assert_eq!(app.tally(PETITION).await["total"], 2);

        let organizer = signed_in(&app, "org@example.org", Grant::CampaignOrganizer { campaign_id: f.petition }).await;
        let form = |action: &'static str, reason: &'static str| {
            [("slug", PETITION), ("email", "Ana@Example.org"), ("action", action), ("reason", reason)]
        };
        // Without a reason nothing changes.
        let response = post_form(&app, "moderate", Some(&organizer), &form("invalidate", " ")).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Moderation");
        assert_eq!(app.tally(PETITION).await["total"], 2);

        let response = post_form(&app, "moderate", Some(&organizer), &form("invalidate", "the signer says it was not them")).await;
        assert_eq!(location(&response), format!("/account/c/{PETITION}?moderated=1"));
        assert_eq!(app.tally(PETITION).await["total"], 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE status = 'invalidated'").await, 1);
        let (_, body) = export(&app, &csv_path(PETITION, ""), Auth::Cookie(&organizer)).await;
        assert_eq!(emails(&body), ["kim@example.org"], "an invalidated signature is not exported");
        // Twice is refused; restoring brings it back.
        let response = post_form(&app, "moderate", Some(&organizer), &form("invalidate", "again")).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Moderation");
        let response = post_form(&app, "moderate", Some(&organizer), &form("restore", "a mistake")).await;
        assert_eq!(location(&response), format!("/account/c/{PETITION}?moderated=1"));
        assert_eq!(app.tally(PETITION).await["total"], 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('signature.invalidate', 'signature.restore')").await, 2);

        // An officer sees their signers but does not strike them off.
        let response = post_form(&app, "moderate", Some(&officer), &form("invalidate", "no")).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Forbidden");
        assert_eq!(app.tally(PETITION).await["total"], 2);
        app.finish().await;
    }

    async fn the_editor_creates_and_versions_campaigns_for_those_allowed(app: TestApp) {
        let f = fixture(&app).await;
        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        let new_campaign = [
            ("form[slug]", "fair-schedules"), ("form[kind]", "petition"), ("form[addressee]", "The transit board"),
            ("form[status]", "draft"), ("form[goal]", "1,000"), ("form[opens_at]", "2026-01-01T00:00"), ("form[closes_at]", ""),
            ("form[sponsors]", "utw, bna"), ("form[allow_community]", "on"), ("form[public_breakdown]", "by_union"),
            ("form[smallest_group]", "5"), ("form[default_language]", "en"),
            ("form[en_title]", "Fair schedules"), ("form[en_summary]", "Two weeks' notice."), ("form[en_body]", "We ask for **two weeks**."),
        ];
        let response = post_form(&app, "save_campaign", Some(&admin), &new_campaign).await;
        assert_eq!(location(&response), "/account/c/fair-schedules/edit?saved=1");
        assert_eq!(app.count("SELECT goal FROM campaigns WHERE slug = 'fair-schedules'").await, 1000);
        assert_eq!(app.count("SELECT COUNT(*) FROM campaign_sponsors WHERE campaign_id = (SELECT id FROM campaigns WHERE slug = 'fair-schedules')").await, 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.create' AND actor LIKE 'user:%admin@example.org'").await, 1);

        // The petition's organizer edits its text: a new version; the old one stays.
        let organizer = signed_in(&app, "org@example.org", Grant::CampaignOrganizer { campaign_id: f.petition }).await;
        let (status, page) = {
            let response = app.http.get(app.url(&format!("/account/c/{PETITION}/edit"))).header("Cookie", &organizer).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        };
        assert_eq!(status, 200);
        assert!(page.contains("Safe Staffing and the Freedom to Organize"), "the editor shows the text");
        let versions_sql = format!(
            "SELECT CAST(MAX(version) AS BIGINT) FROM campaign_texts WHERE language = 'en' AND campaign_id = {}",
            f.petition
        );
        let before = app.count(&versions_sql).await;
        let edited = [
            ("form[slug]", PETITION), ("form[kind]", "petition"), ("form[addressee]", "Congress"), ("form[status]", "open"),
            ("form[goal]", "50000"), ("form[opens_at]", "2026-01-01T00:00"), ("form[closes_at]", "2027-12-31T23:59"),
            ("form[sponsors]", "utw,bna,fct,ldww,hfsg,cbt,pesu,fofu,slcw,cawu"), ("form[allow_community]", "on"),
            ("form[public_breakdown]", "by_union"), ("form[smallest_group]", "5"), ("form[default_language]", "en"),
            ("form[en_title]", "Safe Staffing, Now"), ("form[en_summary]", "Staffing."), ("form[en_body]", "A new text."),
        ];
        let response = post_form(&app, "save_campaign", Some(&organizer), &edited).await;
        assert_eq!(location(&response), format!("/account/c/{PETITION}/edit?saved=1"));
        assert_eq!(app.count(&versions_sql).await, before + 1);

        // Backwards in status, another campaign, and an officer: refused, nothing saved.
        let mut backwards = edited;
        backwards[3] = ("form[status]", "draft");
        let response = post_form(&app, "save_campaign", Some(&organizer), &backwards).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Campaign");
        let mut theirs = new_campaign;
        theirs[13] = ("form[en_title]", "Taken over");
        let response = post_form(&app, "save_campaign", Some(&organizer), &theirs).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Transport");
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let response = post_form(&app, "save_campaign", Some(&officer), &edited).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Forbidden");
        assert_eq!(app.count(&versions_sql).await, before + 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM campaign_texts WHERE title = 'Taken over'").await, 0);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM campaigns WHERE status = 'open' AND id = {}", f.petition)).await, 1);
        app.finish().await;
    }

    async fn archiving_erases_the_signers_details_after_the_stated_days_and_keeps_the_counts(app: TestApp) {
        let f = fixture(&app).await;
        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let local = f.local_a.to_string();
        let sheet = "given_name,family_name,email,phone\nAna,Ruiz,ana@example.org,+1 312 555 0100\nKim,Lee,,\n";
        post_form(&app, "upload_paper", Some(&officer), &[("local_id", &local), ("slug", PETITION), ("sheet", sheet)]).await;
        assert_eq!(app.tally(PETITION).await["total"], 2);

        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        let archive = [
            ("form[slug]", PETITION), ("form[kind]", "petition"), ("form[addressee]", "Congress"),
            ("form[status]", "archived"), ("form[sponsors]", "utw,bna"), ("form[public_breakdown]", "by_union"),
            ("form[smallest_group]", "5"), ("form[default_language]", "en"), ("form[retention_days]", "0"),
            ("form[en_title]", "Safe Staffing"), ("form[en_summary]", "S."), ("form[en_body]", "B."),
        ];
        let response = post_form(&app, "save_campaign", Some(&admin), &archive).await;
        assert_eq!(location(&response), format!("/account/c/{PETITION}/edit?saved=1"));

        let purged = rollcall::store::retention::purge_due(&app.db, Utc::now()).await.unwrap();
        assert_eq!(purged.campaigns, [PETITION]);
        assert_eq!(purged.signatures, 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE given_name <> '' OR email <> '' OR phone IS NOT NULL").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM signatures WHERE canonical_email LIKE 'purged:%'").await, 2);
        assert_eq!(app.tally(PETITION).await["total"], 2, "the counts stay");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.purge'").await, 1);
        // Once is enough; and an archived campaign stays archived.
        assert!(rollcall::store::retention::purge_due(&app.db, Utc::now()).await.unwrap().campaigns.is_empty());
        let mut reopen = archive;
        reopen[3] = ("form[status]", "open");
        let response = post_form(&app, "save_campaign", Some(&admin), &reopen).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Campaign");
        app.finish().await;
    }

    async fn an_admin_imports_locals_from_the_web_and_nobody_else_can(app: TestApp) {
        let f = fixture(&app).await;
        let admin = signed_in(&app, "admin@example.org", Grant::Admin).await;
        let sheet = "union_slug,union_name,union_short_name,local,city,region,member_count,member_count_as_of\n\
                     nnu,Nurses United (test),NNU,Local 9,Oakland,CA,420,2026-11-01\n";
        let response = post_form(&app, "import_locals", Some(&admin), &[("sheet", sheet)]).await;
        assert_eq!(location(&response), "/admin/locals?unions=1&created=1&updated=0");
        assert_eq!(app.count("SELECT COUNT(*) FROM locals WHERE union_id = (SELECT id FROM unions WHERE slug = 'nnu')").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'locals.import'").await, 1);
        let (status, html) = page(&app, "/admin/locals", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("Nurses United (test)"));

        let officer = signed_in(&app, "officer@example.org", Grant::Officer { local_id: f.local_a }).await;
        let response = post_form(&app, "import_locals", Some(&officer), &[("sheet", sheet)]).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Forbidden");
        assert_eq!(page(&app, "/admin/locals", &officer).await.0, 403);
        // A malformed sheet changes nothing and says why.
        let response = post_form(&app, "import_locals", Some(&admin), &[("sheet", "union_slug,local\nnnu\n")]).await;
        assert_eq!(crate::accounts::refusal(&location(&response)), "Import");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'locals.import'").await, 1);
        app.finish().await;
    }
}
