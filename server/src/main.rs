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
            let report = rollcall::import::import_locals(&db, &text, now).await?;
            println!(
                "unions created: {}, locals created: {}, locals updated: {}",
                report.unions_created, report.locals_created, report.locals_updated
            );
        }
        Command::Campaign {
            command: FileCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)?;
            let report = rollcall::import::import_campaign(&db, &text, now).await?;
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
            let campaign = rollcall::campaigns::by_slug(&db, &slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no campaign {slug:?}"))?;
            let recount = rollcall::tally::recount(&db, campaign.id).await?;
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
            let entry = rollcall::blocks::Entry {
                reason: &reason,
                by: &by,
                at: now,
            };
            match what {
                BlockCommand::Domain { domain } => {
                    let added =
                        rollcall::blocks::block_domains(&db, [domain.as_str()], &entry).await?;
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
                    let added = rollcall::blocks::block_domains(&db, text.lines(), &entry).await?;
                    println!("{added} domains newly blocked");
                }
                BlockCommand::Network { network } => {
                    let added = rollcall::blocks::block_network(&db, &network, &entry).await?;
                    println!("{}", if added { "blocked" } else { "already blocked" });
                }
            }
        }
        Command::Unblock { what } => {
            let removed = rollcall::blocks::unblock(&db, &what).await?;
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
            for (what, reason, by, at) in rollcall::blocks::list(&db).await? {
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
            let filter = rollcall::invalidating::Filter {
                campaign,
                network: network
                    .as_deref()
                    .map(rollcall::client::parse_network)
                    .transpose()?,
                email_domain,
                since,
                until,
            };
            if yes {
                let done =
                    rollcall::invalidating::invalidate(&db, &filter, &by, &reason, now).await?;
                rollcall::hub::announce_change(&db, done.campaign_id).await?;
                println!(
                    "invalidated {} confirmed and {} pending signatures; the tallies are corrected",
                    done.matched.confirmed, done.matched.pending
                );
            } else {
                let matched = rollcall::invalidating::preview(&db, &filter).await?;
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

/// `admin create`, `reset-second-factor`, `reset-password`, `disable`, `enable` and
/// `revoke`.
async fn admin(
    db: &sea_orm::DatabaseConnection,
    command: AdminCommand,
    public_url: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use rollcall::revoking::{self, Why};
    match command {
        AdminCommand::Disable { email, by, reason } => {
            revoking::disable(
                db,
                &email,
                Why {
                    by: &by,
                    reason: &reason,
                },
                now,
            )
            .await?;
            println!("{email}: disabled; every session ended, its API keys stopped");
        }
        AdminCommand::ResetPassword { email, by, reason } => {
            revoking::force_password_reset(
                db,
                &email,
                Why {
                    by: &by,
                    reason: &reason,
                },
                public_url,
                now,
            )
            .await?;
            println!(
                "{email}: password reset; every session ended; a link to set a new one is mailed"
            );
        }
        AdminCommand::Enable { email, by, reason } => {
            revoking::enable(
                db,
                &email,
                Why {
                    by: &by,
                    reason: &reason,
                },
                now,
            )
            .await?;
            println!("{email}: enabled; any lock lifted");
        }
        AdminCommand::Revoke {
            email,
            role,
            campaign,
            local,
            union,
            by,
            reason,
        } => {
            let grant = grant_named(db, role, campaign, local, union).await?;
            revoking::revoke_grant(
                db,
                &email,
                grant,
                Why {
                    by: &by,
                    reason: &reason,
                },
                now,
            )
            .await?;
            println!("{email}: role revoked; every session ended");
        }
        AdminCommand::Create { email } => {
            let password = read_password()?;
            let id = rollcall::accounts::create_user(
                db,
                &email,
                &password,
                &[rollcall::domain::Grant::Admin],
                "command line",
                now,
            )
            .await?;
            println!(
                "admin {id} created for {email}; sign in at {public_url}/sign-in and set up an authenticator app"
            );
        }
        AdminCommand::ResetSecondFactor { email, by } => {
            anyhow::ensure!(
                !by.trim().is_empty(),
                "say --by who: it goes to the audit log"
            );
            if rollcall::accounts::reset_second_factor(db, &email, by.trim(), now).await? {
                println!("{email}: authenticator app reset; every session ended");
            } else {
                anyhow::bail!("no account for {email}");
            }
        }
    }
    Ok(())
}

/// The grant a role and what it covers name, with slugs looked up.
async fn grant_named(
    db: &sea_orm::DatabaseConnection,
    role: GrantRole,
    campaign: Option<String>,
    local: Option<String>,
    union: Option<String>,
) -> anyhow::Result<rollcall::domain::Grant> {
    use rollcall::domain::Grant;
    use rollcall::entities::{local as locals, union as unions};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Ok(match (role, campaign, local, union) {
        (GrantRole::Admin, None, None, None) => Grant::Admin,
        (GrantRole::Organizer, Some(slug), None, None) => Grant::CampaignOrganizer {
            campaign_id: rollcall::campaigns::by_slug(db, &slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no campaign {slug:?}"))?
                .id,
        },
        (GrantRole::Organizer, None, None, Some(slug)) => Grant::UnionOrganizer {
            union_id: unions::Entity::find()
                .filter(unions::Column::Slug.eq(slug.as_str()))
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no union {slug:?}"))?
                .id,
        },
        (GrantRole::Officer, None, Some(id_or_slug), None) => {
            let query = match id_or_slug.parse::<i64>() {
                Ok(id) => locals::Entity::find_by_id(id),
                Err(_) => {
                    locals::Entity::find().filter(locals::Column::Slug.eq(id_or_slug.as_str()))
                }
            };
            Grant::Officer {
                local_id: query
                    .one(db)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no local {id_or_slug:?}"))?
                    .id,
            }
        }
        _ => anyhow::bail!(
            "admin takes nothing more; an organizer takes --campaign SLUG or --union SLUG; \
             an officer takes --local ID"
        ),
    })
}

/// A new password: asked for twice at a terminal, else the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let again = rpassword::prompt_password("The same again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn api_key(
    db: &sea_orm::DatabaseConnection,
    command: KeyCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use rollcall::access::{self, KeyFor};
    match command {
        KeyCommand::Create {
            role,
            campaign,
            local,
            label,
        } => {
            let what = match (role, campaign.as_deref(), local.as_deref()) {
                (KeyRole::Organizer, Some(slug), None) => KeyFor::Campaign(slug),
                (KeyRole::Officer, None, Some(local)) => KeyFor::Local(local),
                (KeyRole::Partner, None, None) => KeyFor::Partner,
                _ => anyhow::bail!(
                    "an organizer's key takes --campaign SLUG; an officer's takes --local LOCAL_ID; a partner's takes neither"
                ),
            };
            let (id, key) = access::create_key(db, what, &label, now).await?;
            println!("API key {id} created. It is shown only now; keep it like a password.");
            println!("key: {}", key.as_str());
        }
        KeyCommand::List => {
            for key in access::list_keys(db).await? {
                let over = match (key.campaign_id, key.local_id) {
                    (Some(campaign), _) => format!("campaign {campaign}"),
                    (_, Some(local)) => format!("local {local}"),
                    _ => String::new(),
                };
                let state = key.revoked_at.map_or_else(
                    || "live".to_owned(),
                    |at| format!("revoked {}", at.to_rfc3339()),
                );
                // Whose access the key answers to: a user's, or nobody's (made here).
                let maker = key
                    .created_by
                    .map_or_else(|| "command line".to_owned(), |id| format!("user {id}"));
                println!(
                    "{}\t{}\t{over}\t{}\t{maker}\t{state}",
                    key.id, key.role, key.label
                );
            }
        }
        KeyCommand::Revoke { id } => {
            let revoked = access::revoke_key(db, id, now).await?;
            println!(
                "{}",
                if revoked {
                    "revoked"
                } else {
                    "no live key with that id"
                }
            );
        }
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
