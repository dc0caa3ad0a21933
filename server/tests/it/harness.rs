//! One harness for every integration test: a fresh database (SQLite file or a new
//! PostgreSQL database), a real SMTP server on loopback (Debian's aiosmtpd writing a
//! Maildir), and the app serving on a free port. Helpers read links out of mail.

use std::{
    net::TcpListener as StdListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use server::{Running, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The server's warnings and errors, printed with a failing test's output (`RUST_LOG`
/// shows more). Installed once for the whole test binary.
fn log_to_the_test() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A real SMTP server on loopback that stores what it receives in a Maildir.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    pub fn start(maildir: &Path) -> Self {
        let mut server = Self {
            port: free_port(),
            maildir: maildir.to_owned(),
            child: None,
        };
        server.resume();
        server
    }

    /// Starts (again) on the same port.
    pub fn resume(&mut self) {
        let python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (apt-get install python3-aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Takes the mail server down, as an outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let mut files: Vec<_> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .flatten()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .collect();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .map(|raw| Mail::parse(&raw))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A received mail, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    fn parse(raw: &[u8]) -> Self {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a parsable mail");
        let to = message
            .to()
            .and_then(|to| to.first())
            .and_then(|addr| addr.address())
            .unwrap_or_default()
            .to_owned();
        Self {
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
        }
    }

    /// The first link in the text part whose path starts with `prefix` (like "/v/").
    pub fn link(&self, prefix: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains(prefix))
            .map(str::to_owned)
    }
}

/// The token in a mail's link: its last path segment, without the `?lang=` after it.
pub fn token_of(link: &str) -> &str {
    let last = link.rsplit('/').next().expect("a token");
    last.split('?').next().unwrap_or(last)
}

/// The app under test, with its database and mail server.
pub struct TestApp {
    pub base: String,
    pub db: DatabaseConnection,
    pub smtp: SmtpServer,
    pub http: reqwest::Client,
    /// A partner site's key, as `rollcall api-key create --role partner` makes it: the
    /// JSON sign API answers nothing else.
    pub partner_key: String,
    running: Option<Running>,
    /// Other processes serving the same database (see [`TestApp::another_process`]).
    others: Vec<Running>,
    settings: Settings,
    pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with some settings changed from the tests' defaults.
    pub async fn spawn_with(backend: Backend, change: impl FnOnce(&mut Settings)) -> Self {
        log_to_the_test();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let smtp = SmtpServer::start(&dir.path().join("maildir"));
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("rollcall.db").display()),
                None,
            ),
            Backend::Postgres => {
                let name = format!("rollcall_it_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(format!("{}/postgres", postgres_server()))
                    .await
                    .expect("PostgreSQL answers at TEST_POSTGRES_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("a test database");
                admin.close().await.ok();
                (format!("{}/{name}", postgres_server()), Some(name))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        let mut settings = Settings {
            site_addr: addr,
            site_root: dir.path().join("site").display().to_string(),
            database_url,
            database_max_connections: None,
            mail_url: format!("smtp://127.0.0.1:{}", smtp.port),
            public_url: format!("http://{addr}"),
            // A sign form must be a second old: tests that post one wait that long.
            form_min_seconds: 1,
            // Pages are rendered afresh for each request, so a test sees its own
            // writes at once; the page cache's own test turns it on.
            page_cache_ms: 0,
            ..Settings::default()
        };
        change(&mut settings);
        let db = server::connect_and_migrate(&settings)
            .await
            .expect("database ready");
        server::demo::load(&db).await.expect("demo content loads");
        let (_, partner_key) = rollcall::accounts::access::create_key(
            &db,
            rollcall::accounts::access::KeyFor::Partner,
            "tests",
            chrono::Utc::now(),
        )
        .await
        .expect("a partner key");
        let running = server::start(settings.clone(), db.clone(), listener)
            .await
            .expect("the server starts");
        Self {
            base: format!("http://{addr}"),
            db,
            smtp,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            partner_key: partner_key.as_str().to_owned(),
            running: Some(running),
            others: Vec::new(),
            settings,
            pg_database,
            _dir: dir,
        }
    }

    /// The test's own PostgreSQL database, on PostgreSQL.
    pub fn pg_database(&self) -> Option<&str> {
        self.pg_database.as_deref()
    }

    /// The database the app serves, for the command line to use too.
    pub fn database_url(&self) -> &str {
        &self.settings.database_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Starts a second server on the same database, with its own pool, hub and outbox
    /// worker, as another `rollcall` process would; returns its base URL.
    pub async fn another_process(&mut self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        let settings = Settings {
            site_addr: addr,
            ..self.settings.clone()
        };
        let db = server::connect_and_migrate(&settings)
            .await
            .expect("database ready");
        self.others.push(
            server::start(settings, db, listener)
                .await
                .expect("the second server starts"),
        );
        format!("http://{addr}")
    }

    /// The sign form's stamp, as the campaign page renders it now.
    pub async fn form_stamp(&self, slug: &str) -> String {
        let response = self
            .http
            .get(self.url(&format!("/c/{slug}")))
            .send()
            .await
            .expect("the page answers");
        let status = response.status();
        let html = response.text().await.expect("the page's text");
        let needle = "name=\"stamp\" value=\"";
        let Some(start) = html.find(needle).map(|at| at + needle.len()) else {
            panic!("the page ({status}) has no sign form with a stamp:\n{html}");
        };
        let end = start + html[start..].find('"').expect("the stamp ends");
        html[start..end].to_owned()
    }

    /// Makes a campaign show the public `breakdown` with groups of at least `smallest`.
    /// Call it before the campaign is first read: the hub picks up later changes at its
    /// next resync.
    pub async fn publish(&self, slug: &str, breakdown: &str, smallest: i32) {
        self.exec(&format!(
            "UPDATE campaigns SET public_breakdown = '{breakdown}', smallest_group = {smallest} \
             WHERE slug = '{slug}'"
        ))
        .await;
    }

    /// Stops the server (draining the outbox worker) and drops a PostgreSQL database.
    pub async fn finish(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        for other in self.others.drain(..) {
            other.stop().await;
        }
        self.db.clone().close().await.ok();
        if let Some(name) = self.pg_database.take()
            && let Ok(admin) = Database::connect(format!("{}/postgres", postgres_server())).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }

    /// Waits until `count` mails have arrived (or fails after `timeout`).
    pub async fn wait_for_mails(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.smtp.messages();
            if mails.len() >= count {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mails, got {}: {:?}",
                mails.len(),
                mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A single number from SQL (`SELECT COUNT(*) ...`).
    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .expect("the query runs")
            .expect("a row");
        row.try_get_by_index::<i64>(0).expect("a number")
    }

    pub async fn exec(&self, sql: &str) {
        self.db
            .execute_unprepared(sql)
            .await
            .expect("the statement runs");
    }

    /// The id of some local that may sign `slug`.
    pub async fn a_local_of(&self, slug: &str, index: usize) -> i64 {
        let campaign: serde_json::Value = self
            .http
            .get(self.url(&format!("/api/v1/campaigns/{slug}")))
            .send()
            .await
            .expect("campaign answers")
            .json()
            .await
            .expect("campaign JSON");
        campaign["locals"][index]["id"]
            .as_i64()
            .expect("a local id")
    }

    /// The campaign's counts, all of them, as the database has them this instant (the HTTP tally follows
    /// within the hub's merge window; `tallies.rs` tests that path).
    pub async fn tally(&self, slug: &str) -> serde_json::Value {
        let campaign = rollcall::store::campaigns::by_slug(&self.db, slug)
            .await
            .expect("the campaign loads")
            .expect("the campaign exists");
        let counts = rollcall::store::tally::counts(&self.db, campaign.id)
            .await
            .expect("the tally loads");
        let by_local: Vec<_> = counts
            .by_local
            .iter()
            .map(|(local_id, count)| serde_json::json!({"local_id": local_id, "count": count}))
            .collect();
        serde_json::json!({
            "total": counts.total(),
            "by_local": by_local,
            "community_supporters": counts.community_supporters,
        })
    }

    /// Moves the servers' clock past the next tick of any campaign's breakdown cadence
    /// (a day: the longest there is), so the public groups catch up with the counts.
    pub fn next_breakdown(&self) {
        self.settings.clock.advance(chrono::Duration::days(1));
    }

    /// Moves the app's clock to a minute past the next midnight UTC, the start of a day
    /// and of a sealed batch window, so a test has hours before either turns again.
    pub fn to_start_of_next_day(&self) {
        let now = self.settings.clock.now();
        let midnight = (now.date_naive() + chrono::Duration::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        self.settings
            .clock
            .advance(midnight + chrono::Duration::minutes(1) - now);
    }

    /// Moves the app's clock forward: the rate limits, the mail ceiling and every cadence
    /// see the time pass at once.
    pub fn advance(&self, by: std::time::Duration) {
        self.settings
            .clock
            .advance(chrono::Duration::from_std(by).expect("a short move"));
    }

    /// The app's time, as its scheduled work reads it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.settings.clock.now()
    }

    /// Signs through the JSON API, as a partner site.
    pub async fn sign_json(&self, slug: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/v1/campaigns/{slug}/signatures")))
            .bearer_auth(&self.partner_key)
            .json(&body)
            .send()
            .await
            .expect("sign answers")
    }

    /// Presses the confirm page's button, as a browser without JavaScript does.
    pub async fn press_confirm(&self, link: &str) -> reqwest::Response {
        let token = token_of(link);
        self.http
            .post(self.url("/api/confirm"))
            .header("Accept", "text/html")
            .header("Referer", link)
            .form(&[("token", token)])
            .send()
            .await
            .expect("confirm answers")
    }
}

/// Runs a test body against SQLite and against PostgreSQL, as two tests. A test may
/// change the settings it starts with: `async fn name(app: TestApp) with(f) { ... }`,
/// where `f` takes `&mut Settings`.
#[macro_export]
macro_rules! both_databases {
    ($(async fn $name:ident($app:ident: TestApp) $(with($setup:expr))? $body:block)*) => {
        $(
            mod $name {
                use super::*;
                async fn run($app: TestApp) $body

                fn setup(settings: &mut server::Settings) {
                    let _ = &settings;
                    $( ($setup)(settings); )?
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    run(TestApp::spawn_with(Backend::Sqlite, setup).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    run(TestApp::spawn_with(Backend::Postgres, setup).await).await;
                }
            }
        )*
    };
}
