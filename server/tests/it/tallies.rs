//! Live tallies: the stream, deltas, and the cacheable count.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::both_databases;
use crate::harness::{Backend, TestApp};

const PETITION: &str = "joint-statement-demo";
const WAIT: Duration = Duration::from_secs(15);

/// Reads server-sent events from a stream, skipping keep-alives.
struct Events {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, slug: &str) -> Self {
        let response = app
            .http
            .get(app.url(&format!("/api/v1/campaigns/{slug}/tally/stream")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event's name and data.
    async fn next(&mut self, within: Duration) -> (String, Value) {
        tokio::time::timeout(within, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let frame: String = self.buffer.drain(..end + 2).collect();
                    let mut name = String::new();
                    let mut data = String::new();
                    for line in frame.lines() {
                        if let Some(value) = line.strip_prefix("event: ") {
                            name = value.to_owned();
                        }
                        if let Some(value) = line.strip_prefix("data: ") {
                            data.push_str(value);
                        }
                    }
                    if !name.is_empty() {
                        return (
                            name,
                            serde_json::from_str(&data).expect("event data is JSON"),
                        );
                    }
                    continue;
                }
                let chunk = self
                    .body
                    .next()
                    .await
                    .expect("the stream stays open")
                    .expect("a chunk");
                self.buffer
                    .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
            }
        })
        .await
        .expect("an event in time")
    }
}

async fn sign_and_confirm(app: &TestApp, email: &str, local_id: i64, mails_before: usize) {
    let body =
        json!({"given_name": "Lu", "family_name": "Chen", "email": email, "local_id": local_id});
    assert_eq!(app.sign_json(PETITION, body).await.status(), 202);
    let link = app.wait_for_mails(mails_before + 1, WAIT).await[mails_before]
        .link("/v/")
        .unwrap();
    assert_eq!(app.press_confirm(&link).await.status(), 302);
}

both_databases! {
    async fn a_subscriber_sees_a_confirmation_as_a_delta_of_what_moved(app: TestApp) {
        let (first, second) = (app.a_local_of(PETITION, 0).await, app.a_local_of(PETITION, 1).await);
        sign_and_confirm(&app, "one@example.org", first, 0).await;
        app.wait_for_mails(2, WAIT).await;

        let mut events = Events::open(&app, PETITION).await;
        let (name, snapshot) = events.next(WAIT).await;
        assert_eq!(name, "snapshot");
        assert_eq!(snapshot["total"], 1);

        sign_and_confirm(&app, "two@example.org", second, 2).await;
        let started = std::time::Instant::now();
        let (name, delta) = events.next(WAIT).await;
        eprintln!("delta arrived {:?} after the confirmation", started.elapsed());
        assert_eq!(name, "delta");
        assert_eq!(delta["total"], 2);
        assert_eq!(delta["by_local"].as_array().unwrap().len(), 1, "only the local that moved: {delta}");
        assert_eq!(delta["by_local"][0]["local_id"], second);
        assert!(delta["version"].as_u64() > snapshot["version"].as_u64());
        app.finish().await;
    }

    async fn the_tally_is_cacheable_with_an_etag(app: TestApp) {
        let url = app.url(&format!("/api/v1/campaigns/{PETITION}/tally"));
        let first = app.http.get(&url).send().await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["cache-control"], "public, max-age=1");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let again = app.http.get(&url).header("If-None-Match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304);
        let weakened = app.http.get(&url).header("If-None-Match", format!("W/{etag}")).send().await.unwrap();
        assert_eq!(weakened.status(), 304, "a proxy's weak ETag still matches");

        sign_and_confirm(&app, "three@example.org", app.a_local_of(PETITION, 0).await, 0).await;
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let response = app.http.get(&url).header("If-None-Match", &etag).send().await.unwrap();
            if response.status() == 200 {
                assert_ne!(response.headers()["etag"].to_str().unwrap(), etag);
                assert_eq!(response.json::<Value>().await.unwrap()["total"], 1);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the tally never moved");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app.finish().await;
    }
}
