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
        let report = rollcall::import::import_campaign(&app.db, &edited, now).await.unwrap();
        assert!(!report.created);
        assert_eq!(report.new_versions, vec!["en".to_owned()], "only the changed language");
        assert_eq!(app.count("SELECT CAST(MAX(version) AS BIGINT) FROM campaign_texts WHERE language = 'en' AND campaign_id = (SELECT id FROM campaigns WHERE slug = 'joint-statement-demo')").await, 2);
        let page = app.http.get(app.url("/c/joint-statement-demo")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Safe Staffing Now"), "the page shows the newest version");
        app.finish().await;
    }

    async fn a_locals_file_with_a_bad_row_names_the_line_and_writes_nothing(app: TestApp) {
        let before = app.count("SELECT COUNT(*) FROM locals").await;
        let csv = "union_slug,union_name,union_short_name,local,city,region,member_count,member_count_as_of\n\
                   new-union,New Union,NU,Local 1,Austin,TX,120,2026-01-01\n\
                   new-union,New Union,NU,Local 2,Austin,TX,many,2026-01-01\n";
        let err = rollcall::import::import_locals(&app.db, csv, chrono::Utc::now()).await.unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert_eq!(app.count("SELECT COUNT(*) FROM locals").await, before, "one transaction: nothing written");
        app.finish().await;
    }
}
