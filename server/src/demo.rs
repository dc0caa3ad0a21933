//! Demo content for a first look: ten fictional national unions with their locals, a
//! joint statement and a general-strike pledge, all marked as demo. Loading it twice
//! changes nothing.

use chrono::Utc;
use rollcall::organizing::import::{ImportError, import_campaign, import_locals};
use sea_orm::DatabaseConnection;

pub const LOCALS_CSV: &str = include_str!("../../demo/locals.csv");
pub const CAMPAIGNS: &[&str] = &[
    include_str!("../../demo/joint-statement.toml"),
    include_str!("../../demo/general-strike.toml"),
];

pub async fn load(db: &DatabaseConnection) -> Result<(), ImportError> {
    let now = Utc::now();
    let locals = import_locals(db, LOCALS_CSV, now).await?;
    tracing::info!(?locals, "demo locals loaded");
    for campaign in CAMPAIGNS {
        let imported = import_campaign(db, campaign, now).await?;
        tracing::info!(?imported, "demo campaign loaded");
    }
    Ok(())
}
