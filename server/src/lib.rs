//! The `rollcall` server: settings, the HTTP router (pages, JSON API, operations),
//! and the background workers. `main.rs` is only the command line around it.

pub mod api;
pub mod demo;
pub mod http;
pub mod settings;

use std::sync::Arc;

use rollcall::{hub::TallyHub, mail::Mailer};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::sync::{Notify, watch};

pub use settings::Settings;

/// Connects to the database and brings its schema up to date.
pub async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db =
        rollcall::db::connect(&settings.database_url, settings.database_max_connections).await?;
    migrations::Migrator::up(&db, None).await?;
    Ok(db)
}

/// A running server: its address, and how to stop it and wait for it to drain.
pub struct Running {
    pub addr: std::net::SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, drains requests and the outbox worker, and waits for both.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts the HTTP server and the outbox worker on an already-bound listener.
pub async fn start(
    settings: Settings,
    db: DatabaseConnection,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let mailer = Arc::new(
        Mailer::from_url(&settings.mail_url, &settings.mail_from)?
            .log_links_in_development(settings.env == settings::Environment::Dev),
    );
    let mail_wake = Arc::new(Notify::new());
    let (shutdown, shutdown_rx) = watch::channel(false);

    let worker = tokio::spawn(rollcall::mail::run_worker(
        db.clone(),
        mailer,
        mail_wake.clone(),
        shutdown_rx.clone(),
    ));
    let hub = TallyHub::new(db.clone());
    let router = http::router(&settings, db, mail_wake, hub.clone())?;
    let mut stop = shutdown_rx;
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
            // Live streams never end by themselves: close them so the server drains.
            hub.close();
        })
        .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "the HTTP server failed");
        }
        let _ = worker.await;
    });
    Ok(Running {
        addr,
        shutdown,
        task,
    })
}
