//! `rollcall`: serve the site, migrate the database, and load data from files.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use server::Settings;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "rollcall",
    version,
    about = "Union petitions and strike pledges"
)]
struct Cli {
    /// The settings file; every key can also be set by an environment variable.
    #[arg(long, global = true, default_value = "Leptos.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default).
    Serve,
    /// Bring the database schema up to date.
    Migrate,
    /// Load the demo campaigns, unions and locals (safe to run again).
    Demo,
    /// Import locals from CSV (docs/formats.md).
    Locals {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// Import a campaign from TOML (docs/formats.md).
    Campaign {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// Recount a campaign from its confirmed signatures and compare with its tallies.
    Recount { slug: String },
    /// Block an email domain, a file of them, or an address or CIDR range; every
    /// serving process applies it within 15 seconds.
    Block {
        #[command(subcommand)]
        what: BlockCommand,
        /// Why: kept with the block.
        #[arg(long, global = true, default_value = "")]
        reason: String,
        /// Who: kept with the block.
        #[arg(long, global = true, default_value = "")]
        by: String,
    },
    /// Lift a block on a domain or a network.
    Unblock { what: String },
    /// List the blocks.
    Blocks,
    /// Invalidate signatures by filter: prints the count; `--yes` applies it, corrects
    /// the tallies and writes an audit entry, in one transaction.
    Invalidate {
        /// The campaign's slug.
        #[arg(long)]
        campaign: String,
        /// An address or CIDR range the signatures came from.
        #[arg(long)]
        network: Option<String>,
        /// The email domain of the signers.
        #[arg(long)]
        email_domain: Option<String>,
        /// Signed at or after (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Signed before (RFC 3339).
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// Who is doing this (for the audit log).
        #[arg(long)]
        by: String,
        /// Why (for the audit log).
        #[arg(long)]
        reason: String,
        /// Apply it; without this only the count is shown.
        #[arg(long)]
        yes: bool,
    },
    /// Show the limits in force (settings file and environment applied).
    Limits,
    /// Accounts: `admin create --email E` makes the first admin (the password is asked
    /// for, or read from the first line of stdin).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Keys for programs: an organizer's of a campaign or an officer's of a local (they
    /// export), or a partner site's (it signs through the JSON API). The key is shown
    /// once, as the last word of the last line.
    ApiKey {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    Create {
        #[arg(long)]
        email: String,
    },
    /// For someone who lost their authenticator app: turns their TOTP off and ends their
    /// sessions; their next sign-in sets up a new app. Audited.
    ResetSecondFactor {
        #[arg(long)]
        email: String,
        /// Who is doing this (for the audit log).
        #[arg(long)]
        by: String,
    },
    /// Disables an account: its sessions end at once and the API keys it made stop.
    /// Audited.
    Disable {
        #[arg(long)]
        email: String,
        /// Who is doing this (for the audit log).
        #[arg(long)]
        by: String,
        /// Why (for the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Forces a password reset: the password stops working, every session ends, and the
    /// person is mailed a single-use link to set a new one. Audited.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Enables an account again and lifts a lock set by wrong passwords or codes. Audited.
    Enable {
        #[arg(long)]
        email: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Takes a role from an account: its sessions end at once, and the API keys it made
    /// for that role stop. Audited.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: GrantRole,
        /// The campaign's slug (a campaign's organizer).
        #[arg(long, conflicts_with_all = ["local", "union"])]
        campaign: Option<String>,
        /// The local's id or slug (an officer).
        #[arg(long, conflicts_with = "union")]
        local: Option<String>,
        /// The union's slug (a union's organizer).
        #[arg(long)]
        union: Option<String>,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
}

/// A role to revoke; with what it covers, as `--campaign`, `--union` or `--local`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum GrantRole {
    Admin,
    Organizer,
    Officer,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KeyRole {
    Organizer,
    Officer,
    Partner,
}

#[derive(Subcommand)]
enum KeyCommand {
    Create {
        #[arg(long, value_enum)]
        role: KeyRole,
        /// The campaign's slug (for an organizer's key).
        #[arg(long, required_if_eq("role", "organizer"))]
        campaign: Option<String>,
        /// The local's id or slug (for an officer's key).
        #[arg(long, required_if_eq("role", "officer"))]
        local: Option<String>,
        /// What the key is for, to recognise it in the list.
        #[arg(long, default_value = "")]
        label: String,
    },
    List,
    Revoke {
        id: i64,
    },
}

#[derive(Subcommand)]
enum BlockCommand {
    /// An email domain, such as a disposable-mail service.
    Domain { domain: String },
    /// A file of email domains, one a line (`#` starts a comment).
    Domains { file: PathBuf },
    /// An address or a CIDR range.
    Network { network: String },
}

#[derive(Subcommand)]
enum FileCommand {
    Import { file: PathBuf },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    // Before the runtime starts its threads (see there).
    server::fix_allocator_thresholds();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(&cli.config)?;
    let db = server::connect_and_migrate(&settings).await?;
    let now = chrono::Utc::now();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings, db).await?,
        Command::Migrate => println!("the database schema is up to date"),
        Command::Demo => {
            server::demo::load(&db).await?;
            println!("demo content loaded");
        }
        Command::Locals {
            command: FileCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)?;
            let report = rollcall::organizing::import::import_locals(&db, &text, now).await?;
            println!(
                "unions created: {}, locals created: {}, locals updated: {}",
                report.unions_created, report.locals_created, report.locals_updated
            );
        }
        Command::Campaign {
            command: FileCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)?;
            let report = rollcall::organizing::import::import_campaign(&db, &text, now).await?;
            report.effects().announce(&db).await?;
            println!(
                "campaign {} {}; new text versions: {}",
                report.slug,
                if report.created { "created" } else { "updated" },
                if report.new_versions.is_empty() {
                    "none".to_owned()
                } else {
                    report.new_versions.join(", ")
                }
            );
        }
        Command::Recount { slug } => {
            let campaign = rollcall::store::campaigns::by_slug(&db, &slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no campaign {slug:?}"))?;
            let recount = rollcall::store::tally::recount(&db, campaign.id).await?;
            println!(
                "tallied {}, counted {}: {}",
                recount.tallied.total(),
                recount.counted.total(),
                if recount.matches() {
                    "they match"
                } else {
                    "THEY DIFFER"
                }
            );
            if !recount.matches() {
                std::process::exit(1);
            }
        }
        Command::Block { what, reason, by } => {
            if reason.trim().is_empty() || by.trim().is_empty() {
                anyhow::bail!("say --by who and --reason why: both are kept with the block");
            }
            let entry = rollcall::abuse::blocks::Entry {
                reason: &reason,
                by: &by,
                at: now,
            };
            match what {
                BlockCommand::Domain { domain } => {
                    let added =
                        rollcall::abuse::blocks::block_domains(&db, [domain.as_str()], &entry)
                            .await?;
                    println!(
                        "{}",
                        if added == 1 {
                            "blocked"
                        } else {
                            "already blocked"
                        }
                    );
                }
                BlockCommand::Domains { file } => {
                    let text = std::fs::read_to_string(&file)?;
                    let added =
                        rollcall::abuse::blocks::block_domains(&db, text.lines(), &entry).await?;
                    println!("{added} domains newly blocked");
                }
                BlockCommand::Network { network } => {
                    let added =
                        rollcall::abuse::blocks::block_network(&db, &network, &entry).await?;
                    println!("{}", if added { "blocked" } else { "already blocked" });
                }
            }
        }
        Command::Unblock { what } => {
            let removed = rollcall::abuse::blocks::unblock(&db, &what).await?;
            println!(
                "{}",
                if removed {
                    "unblocked"
                } else {
                    "it was not blocked"
                }
            );
        }
        Command::Blocks => {
            for (what, reason, by, at) in rollcall::abuse::blocks::list(&db).await? {
                println!("{what}\t{reason}\t{by}\t{}", at.to_rfc3339());
            }
        }
        Command::Invalidate {
            campaign,
            network,
            email_domain,
            since,
            until,
            by,
            reason,
            yes,
        } => {
            let filter = rollcall::organizing::invalidating::Filter {
                campaign,
                network: network
                    .as_deref()
                    .map(rollcall::abuse::client::parse_network)
                    .transpose()?,
                email_domain,
                since,
                until,
            };
            if yes {
                let done =
                    rollcall::organizing::invalidating::invalidate(&db, &filter, &by, &reason, now)
                        .await?;
                done.effects().announce(&db).await?;
                println!(
                    "invalidated {} confirmed and {} pending signatures; the tallies are corrected",
                    done.matched.confirmed, done.matched.pending
                );
            } else {
                let matched = rollcall::organizing::invalidating::preview(&db, &filter).await?;
                println!(
                    "would invalidate {} confirmed and {} pending signatures; run again with --yes to do it",
                    matched.confirmed, matched.pending
                );
            }
        }
        Command::Limits => {
            let limits = serde_json::json!({
                "sign": settings.sign_limit(),
                "confirm": settings.confirm_limit(),
                "mail": settings.mail_limits(),
                "form_min_seconds": settings.form_min_seconds,
                "header_timeout_secs": settings.header_timeout_secs,
                "body_limit_bytes": settings.body_limit_bytes,
                "upload_limit_bytes": settings.upload_limit_bytes,
                "trusted_proxies": settings.trusted_proxies,
                "note": "sign and confirm limits are per process; mail limits hold across processes",
            });
            println!("{}", serde_json::to_string_pretty(&limits)?);
        }
        Command::Admin { command } => admin(&db, command, settings.public_url(), now).await?,
        Command::ApiKey { command } => api_key(&db, command, now).await?,
    }
    Ok(())
}

async fn serve(settings: Settings, db: sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.site_addr).await?;
    let running = server::start(settings, db, listener).await?;
    tracing::info!("listening on http://{}", running.addr);
    shutdown_signal().await;
    tracing::info!("shutting down: draining requests and the outbox worker");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

mod admin_cli;

use admin_cli::*;
