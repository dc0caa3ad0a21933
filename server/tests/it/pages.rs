//! Pages and operations endpoints answer as a person and a load balancer expect.

use crate::both_databases;
use crate::harness::{Backend, TestApp};

both_databases! {
    async fn the_front_page_lists_open_campaigns_and_each_has_a_page(app: TestApp) {
        let home = app.http.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.status(), 200);
        let html = home.text().await.unwrap();
        assert!(html.contains("Safe Staffing and the Freedom to Organize"));
        assert!(html.contains("/c/general-strike-pledge-demo"));

        let page = app.http.get(app.url("/c/joint-statement-demo")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.unwrap();
        assert!(html.contains("<h1>Safe Staffing and the Freedom to Organize</h1>"));
        assert!(html.contains("id=\"sign-form\""));
        assert!(html.contains("personal address, not a work one"));
        assert!(!html.contains("<script>alert"), "Markdown is sanitised");

        let spanish = app.http.get(app.url("/c/joint-statement-demo")).header("Accept-Language", "es-MX,es;q=0.9").send().await.unwrap().text().await.unwrap();
        assert!(spanish.contains("Personal suficiente y libertad para organizarnos"), "the campaign text follows the reader's language");
        assert!(!spanish.contains("<h1>Safe Staffing"), "and only that language is shown");

        let missing = app.http.get(app.url("/c/no-such-campaign")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        app.finish().await;
    }

    async fn health_and_readiness_answer(app: TestApp) {
        assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
        assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
        app.finish().await;
    }
}

both_databases! {
    async fn pages_are_compressed_for_clients_that_ask(app: TestApp) {
        let page = app.http.get(app.url("/c/joint-statement-demo")).header("Accept-Encoding", "gzip").send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-encoding"], "gzip");
        app.finish().await;
    }
}
