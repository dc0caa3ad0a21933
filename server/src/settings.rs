//! Settings: `Leptos.toml` in the working directory (or `--config FILE`), each key
//! overridable by an environment variable. The mapping is one rule: a key's variable
//! is its name in capitals (`database_url` → `DATABASE_URL`), and the three keys Leptos
//! itself knows keep Leptos's names (`site_addr` → `LEPTOS_SITE_ADDR`, `site_root` →
//! `LEPTOS_SITE_ROOT`, `env` → `LEPTOS_ENV`).

use std::{net::SocketAddr, path::Path};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Dev,
    Prod,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    /// Where to listen.
    pub site_addr: SocketAddr,
    /// Where cargo-leptos put the built site (wasm, JS, CSS, assets).
    pub site_root: String,
    /// `dev` or `prod`. In `dev`, confirmation links of file mail are also logged.
    pub env: Environment,
    /// `sqlite://FILE` or `postgres://...`.
    pub database_url: String,
    /// The pool's size; unset, 4 on SQLite and 8 on PostgreSQL (`pool_size`).
    pub database_max_connections: Option<u32>,
    /// Connections kept apart for exports, which hold one for as long as they stream.
    pub export_connections: u32,
    /// `smtp://`, `smtps://` (lettre's URL forms), `file:///dir`, `file://dir` or `log`.
    pub mail_url: String,
    pub mail_from: String,
    /// The base of links in mail.
    pub public_url: String,
    /// Proxies whose forwarded-for header is believed (addresses or CIDR ranges).
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// How long a confirmation link works.
    pub confirm_ttl_days: i64,
    /// The largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// The largest body of a paper sheet or a member list (`UPLOAD_PATHS`), in bytes: a
    /// 10,000-member list is about 300 KB.
    pub upload_limit_bytes: usize,
    /// A client has this long to send a request's head (and a body has 30 s); an
    /// HTTP/2 connection with no request under way is closed after as long.
    pub header_timeout_secs: u64,
    /// Live tally streams one client address (IPv6: per /64) may hold, per process: a
    /// union hall's 300 phones on one Wi-Fi must all follow the count.
    pub streams_per_client: u32,
    /// Open TCP connections in all (HTTP/2 streams are not counted apart); more are
    /// answered 503. Unset: the open-file limit less a tenth and 64, kept for the
    /// database, mail and files.
    pub max_connections: Option<usize>,
    /// Signing, per client address (IPv6: per /64), per process: `sign_burst` at once,
    /// refilled at `sign_per_hour`. Generous: fifty members signing from one union
    /// hall's Wi-Fi in a meeting must all get through.
    pub sign_burst: u32,
    pub sign_per_hour: u32,
    /// Pressing confirm (and withdraw), likewise.
    pub confirm_burst: u32,
    pub confirm_per_hour: u32,
    /// Sign-in attempts (passwords, codes, invitations) per client address. Each account
    /// also locks for 15 minutes after 10 wrong passwords, across processes.
    pub sign_in_burst: u32,
    pub sign_in_per_hour: u32,
    /// Mails to one mailbox per hour, across processes (nobody can bomb an inbox).
    pub mails_per_mailbox_per_hour: u32,
    /// All mail sent per minute, across processes: more waits, nothing is refused.
    pub mails_per_minute: u32,
    /// A sign form sent sooner than this after it was rendered is a script's.
    pub form_min_seconds: i64,
    /// How long the front page, a campaign's page and its embed are kept as rendered
    /// (per language and encoding) before the next reader's request renders them again;
    /// 0 renders every request.
    pub page_cache_ms: u64,
    /// The time the tally hub's cadence follows: the system's; tests move it forward.
    #[serde(skip)]
    pub clock: rollcall::domain::clock::Clock,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: "target/site".into(),
            env: Environment::Dev,
            database_url: "sqlite://rollcall.db".into(),
            database_max_connections: None,
            export_connections: 2,
            mail_url: "file://mail".into(),
            mail_from: "Rollcall <rollcall@localhost>".into(),
            public_url: "http://127.0.0.1:3000".into(),
            trusted_proxies: Vec::new(),
            confirm_ttl_days: 7,
            body_limit_bytes: 16 * 1024,
            upload_limit_bytes: 2 * 1024 * 1024,
            header_timeout_secs: 10,
            streams_per_client: 500,
            max_connections: None,
            sign_burst: 60,
            sign_per_hour: 600,
            confirm_burst: 60,
            confirm_per_hour: 600,
            sign_in_burst: 10,
            sign_in_per_hour: 60,
            mails_per_mailbox_per_hour: 5,
            mails_per_minute: 3000,
            form_min_seconds: 2,
            page_cache_ms: 1000,
            clock: rollcall::domain::clock::Clock::system(),
        }
    }
}

/// The keys read from plain environment variables (their names in capitals).
const PLAIN_KEYS: &[&str] = &[
    "database_url",
    "database_max_connections",
    "export_connections",
    "mail_url",
    "mail_from",
    "public_url",
    "trusted_proxies",
    "confirm_ttl_days",
    "body_limit_bytes",
    "upload_limit_bytes",
    "header_timeout_secs",
    "streams_per_client",
    "max_connections",
    "sign_burst",
    "sign_per_hour",
    "confirm_burst",
    "confirm_per_hour",
    "sign_in_burst",
    "sign_in_per_hour",
    "mails_per_mailbox_per_hour",
    "mails_per_minute",
    "form_min_seconds",
    "page_cache_ms",
];

impl Settings {
    /// Defaults, then the file (if it exists), then the environment.
    pub fn load(file: &Path) -> Result<Self, Box<figment::Error>> {
        Self::figment(file).extract().map_err(Box::new)
    }

    pub fn figment(file: &Path) -> Figment {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::raw().only(PLAIN_KEYS))
            .merge(Env::prefixed("LEPTOS_").only(&["site_addr", "site_root", "env"]))
    }

    /// The Leptos options the renderer needs, from these settings.
    pub fn leptos_options(&self) -> leptos::config::LeptosOptions {
        leptos::config::LeptosOptions::builder()
            .output_name("rollcall")
            .site_root(self.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(self.site_addr)
            // cargo-leptos builds assets under hashed names (hash-files in Cargo.toml)
            // and writes their hashes to hash.txt beside the binary; a binary it did not
            // build (a test) serves pages without assets.
            .hash_files(hash_file_beside_binary())
            .env(match self.env {
                Environment::Dev => leptos::config::Env::DEV,
                Environment::Prod => leptos::config::Env::PROD,
            })
            .build()
    }

    /// The pool's size: as set, or 4 on SQLite and 8 on PostgreSQL. SQLite's writers
    /// take turns in the process and two cores read no faster from more connections,
    /// while each one keeps its schema and prepared statements, on a thread of its own
    /// with memory of its own, for good (see `rollcall::store::db::connect`): 8 held 4 MiB
    /// more after a crowd than 4 did, and side by side neither signed nor confirmed
    /// faster by more than the runs' spread (BENCHMARKS.md). A PostgreSQL connection
    /// waits on the network for most of a request, so more of them overlap.
    pub fn pool_size(&self) -> u32 {
        self.database_max_connections
            .unwrap_or(if self.database_url.starts_with("sqlite:") {
                4
            } else {
                8
            })
    }

    pub fn public_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    pub fn mail_limits(&self) -> rollcall::mail::MailLimits {
        rollcall::mail::MailLimits {
            per_mailbox_per_hour: self.mails_per_mailbox_per_hour,
            per_minute: self.mails_per_minute,
            retry_days: u32::try_from(self.confirm_ttl_days).unwrap_or(7).max(1),
        }
    }

    pub fn sign_limit(&self) -> rollcall::abuse::limits::Limit {
        rollcall::abuse::limits::Limit {
            burst: self.sign_burst,
            per_hour: self.sign_per_hour,
        }
    }

    pub fn sign_in_limit(&self) -> rollcall::abuse::limits::Limit {
        rollcall::abuse::limits::Limit {
            burst: self.sign_in_burst,
            per_hour: self.sign_in_per_hour,
        }
    }

    /// Session cookies are marked `Secure` when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The most TCP connections served at once: as set, or below the open-file limit
    /// (raised to its hard limit first) with room for the pool, mail and files.
    pub fn connection_cap(&self) -> usize {
        self.max_connections
            .unwrap_or_else(|| {
                let files = crate::raise_open_file_limit();
                files.saturating_sub(files / 10 + 64)
            })
            .max(1)
    }

    /// `Strict-Transport-Security` for every response when the site is public over
    /// https: TLS usually ends at the proxy, so the request's own scheme says nothing.
    pub fn hsts(&self) -> Option<axum::http::HeaderValue> {
        self.secure_cookies()
            .then(|| axum::http::HeaderValue::from_static("max-age=31536000"))
    }

    pub fn confirm_limit(&self) -> rollcall::abuse::limits::Limit {
        rollcall::abuse::limits::Limit {
            burst: self.confirm_burst,
            per_hour: self.confirm_per_hour,
        }
    }
}

fn hash_file_beside_binary() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt").exists()))
        .unwrap_or(false)
}

/// Accepts a TOML list or, from the environment, a comma-separated string.
fn list_or_commas<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    Ok(match ListOrString::deserialize(deserializer)? {
        ListOrString::List(list) => list,
        ListOrString::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment's test jail returns figment's own error"
)]
mod tests {
    use super::*;

    #[test]
    fn environment_variables_override_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "Leptos.toml",
                r#"
                database_url = "sqlite://from-file.db"
                site_addr = "127.0.0.1:4000"
                trusted_proxies = ["10.0.0.1"]
                "#,
            )?;
            jail.set_env("DATABASE_URL", "postgres://db/rollcall");
            jail.set_env("LEPTOS_SITE_ADDR", "0.0.0.0:8080");
            jail.set_env("TRUSTED_PROXIES", "10.0.0.1, 10.0.0.0/8");
            let settings = Settings::load(Path::new("Leptos.toml")).expect("settings load");
            assert_eq!(settings.database_url, "postgres://db/rollcall");
            assert_eq!(settings.site_addr, "0.0.0.0:8080".parse().unwrap());
            assert_eq!(settings.trusted_proxies, vec!["10.0.0.1", "10.0.0.0/8"]);
            assert_eq!(
                settings.mail_url, "file://mail",
                "defaults fill what is not set"
            );
            Ok(())
        });
    }

    #[test]
    fn a_missing_file_leaves_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            let settings = Settings::load(Path::new("nowhere.toml")).expect("settings load");
            assert_eq!(settings.site_addr, SocketAddr::from(([127, 0, 0, 1], 3000)));
            Ok(())
        });
    }

    #[test]
    fn uploads_have_a_limit_of_their_own() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            let load = || Settings::load(Path::new("nowhere.toml")).expect("settings load");
            assert_eq!(load().upload_limit_bytes, 2_097_152);
            assert_eq!(load().body_limit_bytes, 16_384, "the rest keep theirs");
            jail.set_env("UPLOAD_LIMIT_BYTES", "4194304");
            assert_eq!(load().upload_limit_bytes, 4_194_304);
            Ok(())
        });
    }

    #[test]
    fn the_pool_is_sized_for_its_database_unless_set() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            let load = || Settings::load(Path::new("nowhere.toml")).expect("settings load");
            assert_eq!(load().pool_size(), 4, "SQLite, the default database");
            jail.set_env("DATABASE_URL", "postgres://db/rollcall");
            assert_eq!(load().pool_size(), 8);
            jail.set_env("DATABASE_MAX_CONNECTIONS", "16");
            assert_eq!(load().pool_size(), 16, "a size set is kept");
            jail.set_env("DATABASE_URL", "sqlite://rollcall.db");
            assert_eq!(load().pool_size(), 16, "on SQLite too");
            Ok(())
        });
    }
}
