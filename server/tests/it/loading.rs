//! Loading data from files: re-imports update and never duplicate.

use crate::both_databases;
use crate::harness::{Backend, TestApp};

both_databases! {
    async fn loading_the_demo_twice_changes_nothing(app: TestApp) {
        let tables = ["unions", "locals", "member_counts", "campaigns", "campaign_texts", "campaign_sponsors"];
        let mut before = Vec::new();
        for table in tables {
            before.push(app.count(&format!("SELECT COUNT(*) FROM {table}")).await);
        }
        assert_eq!(before[0], 10, "ten demo unions");
        assert!(before[1] > 200, "a few hundred demo locals");
        server::demo::load(&app.db).await.expect("the demo loads again");
        for (table, count) in tables.iter().zip(before) {
            assert_eq!(app.count(&format!("SELECT COUNT(*) FROM {table}")).await, count, "{table}");
        }
        app.finish().await;
    }

    async fn a_changed_campaign_text_becomes_a_new_version(app: TestApp) {
        let now = chrono::Utc::now();
        let original = server::demo::CAMPAIGNS[0];
        let edited = original.replacen("title = \"Safe Staffing", "title = \"Safe Staffing Now", 1);
        assert_ne!(original, edited, "the demo title is where the test expects it");
        let report = rollcall::organizing::import::import_campaign(&app.db, &edited, now).await.unwrap();
        assert!(!report.created);
        assert_eq!(report.new_versions, vec!["en".to_owned()], "only the changed language");
        assert_eq!(app.count("SELECT CAST(MAX(version) AS BIGINT) FROM campaign_texts WHERE language = 'en' AND campaign_id = (SELECT id FROM campaigns WHERE slug = 'joint-statement-demo')").await, 2);
        let page = app.http.get(app.url("/c/joint-statement-demo")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Safe Staffing Now"), "the page shows the newest version");
        app.finish().await;
    }

    async fn a_reader_gets_the_newest_text_in_their_language_or_else_the_default(app: TestApp) {
        use rollcall::{store::campaigns::current_text, domain::Language};
        let now = chrono::Utc::now();
        let file = |slug: &str, texts: &[(&str, &str)]| {
            let mut file = format!("slug = \"{slug}\"\nkind = \"petition\"\naddressee = \"Us\"\nstatus = \"open\"\nsponsors = [\"utw\"]\ndefault_language = \"es\"\n");
            for (language, title) in texts {
                file += &format!("[[text]]\nlanguage = \"{language}\"\ntitle = \"{title}\"\nsummary = \"s\"\nbody = \"b\"\n");
            }
            file
        };
        let db = &app.db;
        let import = |file: String| async move { rollcall::organizing::import::import_campaign(db, &file, now).await.unwrap() };
        import(file("both-languages", &[("en", "First"), ("es", "Primero")])).await;
        import(file("both-languages", &[("en", "Second"), ("es", "Primero")])).await;
        let campaign = rollcall::store::campaigns::by_slug(&app.db, "both-languages").await.unwrap().unwrap();
        let title = |text: Option<rollcall::entities::campaign_text::Model>| text.map(|t| (t.title, t.version));
        assert_eq!(title(current_text(&app.db, &campaign, Language::En).await.unwrap()), Some(("Second".to_owned(), 2)), "the newest version");
        assert_eq!(title(current_text(&app.db, &campaign, Language::Es).await.unwrap()), Some(("Primero".to_owned(), 1)), "its own language's");

        import(file("spanish-only", &[("es", "Solo")])).await;
        let campaign = rollcall::store::campaigns::by_slug(&app.db, "spanish-only").await.unwrap().unwrap();
        assert_eq!(title(current_text(&app.db, &campaign, Language::En).await.unwrap()), Some(("Solo".to_owned(), 1)), "another language's when there is none in the reader's (with two languages, the default is the only other)");

        // Signing reads the campaign, its text in the same order, and whether the signer's
        // choice may sign, together.
        use rollcall::domain::LocalChoice;
        let for_signing = |slug: &'static str, language, choice| async move {
            rollcall::store::campaigns::for_signing(db, slug, language, choice).await.unwrap().map(|found| (found.campaign.slug, found.text.title, found.may_sign))
        };
        let community = LocalChoice::CommunitySupporter;
        let found = |title: &str, ok| Some(("both-languages".to_owned(), title.to_owned(), ok));
        assert_eq!(for_signing("both-languages", Language::En, community).await, found("Second", true));
        assert_eq!(for_signing("both-languages", Language::Es, community).await, found("Primero", true));
        assert_eq!(for_signing("spanish-only", Language::En, community).await, Some(("spanish-only".to_owned(), "Solo".to_owned(), true)));
        assert_eq!(for_signing("no-such-campaign", Language::En, community).await, None);
        let local_of = |union: &str| format!("SELECT MIN(l.id) FROM locals l JOIN unions u ON u.id = l.union_id WHERE u.slug = '{union}'");
        let sponsor_local = LocalChoice::Local(app.count(&local_of("utw")).await);
        let other_local = LocalChoice::Local(app.count(&local_of("cbt")).await);
        assert_eq!(for_signing("both-languages", Language::En, sponsor_local).await, found("Second", true), "a sponsor's local");
        assert_eq!(for_signing("both-languages", Language::En, other_local).await, found("Second", false), "another union's local");
        assert_eq!(for_signing("both-languages", Language::En, LocalChoice::Local(i64::MAX)).await, found("Second", false), "no such local");
        import(file("locals-only", &[("es", "Solo")]).replacen("default_language", "allow_community = false\ndefault_language", 1)).await;
        assert_eq!(for_signing("locals-only", Language::Es, community).await, Some(("locals-only".to_owned(), "Solo".to_owned(), false)), "a campaign for locals only");
        assert_eq!(for_signing("locals-only", Language::Es, sponsor_local).await, Some(("locals-only".to_owned(), "Solo".to_owned(), true)));
        app.finish().await;
    }

    async fn a_locals_file_with_a_bad_row_names_the_line_and_writes_nothing(app: TestApp) {
        let before = app.count("SELECT COUNT(*) FROM locals").await;
        let csv = "union_slug,union_name,union_short_name,local,city,region,member_count,member_count_as_of\n\
                   new-union,New Union,NU,Local 1,Austin,TX,120,2026-01-01\n\
                   new-union,New Union,NU,Local 2,Austin,TX,many,2026-01-01\n";
        let err = rollcall::organizing::import::import_locals(&app.db, csv, chrono::Utc::now()).await.unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert_eq!(app.count("SELECT COUNT(*) FROM locals").await, before, "one transaction: nothing written");
        app.finish().await;
    }
}
