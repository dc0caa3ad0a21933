//! The `rollcall` server: settings, the HTTP router (pages, JSON API, operations),
//! and the background workers. `main.rs` is only the command line around it.

pub mod api;
pub mod demo;
pub mod export;
pub mod guard;
pub mod http;
pub mod osdi;
pub mod page_cache;
pub mod problem;
pub mod serve;
pub mod settings;
pub mod streams;

use std::sync::Arc;

use rollcall::{live::hub::TallyHub, mail::Mailer};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::sync::{Notify, watch};

pub use settings::Settings;

/// Connects to the database and brings its schema up to date.
pub async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = rollcall::store::db::connect(&settings.database_url, settings.pool_size()).await?;
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
        settings.mail_limits(),
        settings.clock.clone(),
        mail_wake.clone(),
        shutdown_rx.clone(),
    ));
    tokio::spawn(rollcall::store::retention::run_worker(
        db.clone(),
        shutdown_rx.clone(),
    ));
    let hub = TallyHub::new(db.clone(), settings.clock.clone());
    let pledge_wake = Arc::new(Notify::new());
    let bells = rollcall::live::effects::Bells {
        hub: hub.clone(),
        mail: mail_wake.clone(),
        pledges: pledge_wake.clone(),
    };
    tokio::spawn(rollcall::pledges::run_worker(
        db.clone(),
        bells.clone(),
        settings.public_url.clone(),
        shutdown_rx.clone(),
    ));
    tokio::spawn(rollcall::pledges::verifying::run_batches(
        db.clone(),
        bells.clone(),
        settings.clock.clone(),
        shutdown_rx.clone(),
    ));
    tokio::spawn(rollcall::organizing::collisions::run_worker(
        db.clone(),
        bells,
        settings.clock.clone(),
        shutdown_rx.clone(),
    ));
    let partners = Arc::new(rollcall::accounts::partners::PartnerKeys::new(db.clone()));
    let guard = Arc::new(guard::Guard::new(&settings, partners.clone())?);
    tokio::spawn(guard::Guard::forget_idle(Arc::downgrade(&guard)));
    let form_key = rollcall::abuse::stamp::FormKey::load_or_create(&db).await?;
    let export_db =
        rollcall::store::db::connect(&settings.database_url, settings.export_connections).await?;
    tokio::spawn(give_back_memory(
        [db.clone(), export_db.clone()],
        shutdown_rx.clone(),
    ));
    let parts = http::Parts {
        db,
        export_db,
        mail_wake,
        pledge_wake,
        hub: hub.clone(),
        guard,
        partners,
        form_key,
    };
    let router = http::router(&settings, parts)?;
    let bounds = serve::Bounds {
        header_timeout: std::time::Duration::from_secs(settings.header_timeout_secs),
        max_connections: settings.connection_cap(),
        hsts: settings.hsts().is_some(),
    };
    let mut stop = shutdown_rx;
    let task = tokio::spawn(async move {
        serve::serve(listener, router, bounds, async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
            // Live streams never end by themselves: close them so the server drains.
            hub.close();
        })
        .await;
        let _ = worker.await;
    });
    Ok(Running {
        addr,
        shutdown,
        task,
    })
}

/// Fixes glibc's thresholds for trimming (128 KiB, its default) and for mapping a
/// large block on its own (1 MiB). Left to itself, glibc raises both after the program
/// frees a large block (the mapping threshold up to 32 MiB, the trimming one to twice
/// that), so that the next such block comes from the heap; from then on every arena
/// but the main one keeps up to 64 MiB of free memory at its top, which `malloc_trim`
/// does not hand back (it trims only the main arena's top). After a crowd on SQLite
/// that was about 5 MiB of the resident set (BENCHMARKS.md). A block under 1 MiB, such
/// as a compressed answer's working space, still comes from the heap; larger ones
/// (SQLite's big sorts, brotli's window for a kept page) are mapped and unmapped.
///
/// glibc's `mallopt` is not safe beside another thread that frees memory: `main` calls
/// this before it starts any.
pub fn fix_allocator_thresholds() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (setting, bytes) in [
        (libc::M_TRIM_THRESHOLD, 128 << 10),
        (libc::M_MMAP_THRESHOLD, 1 << 20),
    ] {
        // SAFETY: called while the process has one thread (see above); mallopt only
        // changes the allocator's own numbers.
        if unsafe { libc::mallopt(setting, bytes) } != 1 {
            tracing::warn!(setting, "glibc refused an allocator threshold");
        }
    }
}

/// Raises the soft open-file limit to the hard one (each connection is a file) and
/// returns it; 1,024 where it cannot be read.
pub fn raise_open_file_limit() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                if limit.rlim_cur < limit.rlim_max {
                    let raised = libc::rlimit {
                        rlim_cur: limit.rlim_max,
                        rlim_max: limit.rlim_max,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                        limit = raised;
                    }
                }
                return usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
            }
        }
    }
    1024
}

/// Every half minute, hands the memory freed since back to the system: first the pages
/// SQLite caches on the pools' resting connections, then what the allocator keeps.
/// After a crowd of live-count subscribers leaves, glibc's allocator keeps their pages
/// (the server stayed at 450 MB after 19,000 had gone); `malloc_trim` returns them. It
/// walks every arena, so it runs on a blocking thread, not on one that serves requests.
async fn give_back_memory(
    pools: [DatabaseConnection; 2],
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        for pool in &pools {
            rollcall::store::db::release_cached_pages(pool).await;
        }
        // SAFETY: malloc_trim only releases free memory; it takes the allocator's own
        // locks and touches nothing the program holds.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
    }
}
