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
}

#[derive(Subcommand)]
enum FileCommand {
    Import { file: PathBuf },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
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
