//! Keeping signers' personal data no longer than needed. An archived campaign states how
//! many days its signers' details are kept after archiving; then they are purged (names,
//! addresses, phones, employers, postal codes, network addresses, token hashes), and the
//! signatures stay as counted rows, so the counts never change. Network addresses kept
//! for abuse review are cleared on every campaign after [`IP_RETENTION`].
//!
//! Purging is idempotent and runs from the server's retention worker every hour.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::json;

use crate::{
    audit::audit_entry,
    domain::{CampaignStatus, SignatureStatus},
    entities::{campaign, sign_candidate, signature},
    store::db,
};

/// How long a signature's network address is kept for abuse review.
pub const IP_RETENTION: Duration = Duration::days(30);
/// How long after start-up the worker first looks.
const FIRST_PASS: std::time::Duration = std::time::Duration::from_secs(60);
/// How often the worker looks.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Campaigns whose signers' details were purged in this pass.
    pub campaigns: Vec<String>,
    pub signatures: u64,
    pub addresses_cleared: u64,
}

/// `purged:` and the signature's id, in each database's words.
fn purged_key(db: &DatabaseConnection) -> sea_orm::sea_query::SimpleExpr {
    match db.get_database_backend() {
        DbBackend::Postgres => Expr::cust("'purged:' || id::text"),
        _ => Expr::cust("'purged:' || hex(id)"),
    }
}

/// Purges what is due at `now`.
pub async fn purge_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Purged, DbErr> {
    // Second sign requests whose link expired, or whose signature was confirmed (or
    // left pending) since: their details go with their link.
    let settled = Query::select()
        .expr(Expr::val(1))
        .from(signature::Entity)
        .and_where(
            Expr::col((signature::Entity, signature::Column::Id))
                .equals((sign_candidate::Entity, sign_candidate::Column::SignatureId)),
        )
        .and_where(
            Expr::col((signature::Entity, signature::Column::Status)).ne(SignatureStatus::Pending),
        )
        .to_owned();
    sign_candidate::Entity::delete_many()
        .filter(
            Condition::any()
                .add(sign_candidate::Column::ConfirmExpiresAt.lte(now))
                .add(Expr::exists(settled)),
        )
        .exec(db)
        .await?;
    let mut purged = Purged {
        addresses_cleared: signature::Entity::update_many()
            .col_expr(signature::Column::Ip, Expr::value(Option::<String>::None))
            .filter(signature::Column::Ip.is_not_null())
            .filter(signature::Column::CreatedAt.lt(now - IP_RETENTION))
            .exec(db)
            .await?
            .rows_affected,
        ..Purged::default()
    };
    let due = campaign::Entity::find()
        .filter(campaign::Column::Status.eq(CampaignStatus::Archived))
        .filter(campaign::Column::PurgedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .filter(|c| {
            c.archived_at.is_some_and(|archived| {
                archived + Duration::days(i64::from(Ord::max(c.retention_days, 0))) <= now
            })
        });
    for found in due {
        let txn = db::begin_write(db).await?;
        let changed = signature::Entity::update_many()
            .col_expr(signature::Column::GivenName, Expr::value(""))
            .col_expr(signature::Column::FamilyName, Expr::value(""))
            .col_expr(signature::Column::Email, Expr::value(""))
            // Still unique per campaign, and no longer anyone's address.
            .col_expr(signature::Column::CanonicalEmail, purged_key(db))
            .col_expr(
                signature::Column::Employer,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                signature::Column::PostalCode,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                signature::Column::Phone,
                Expr::value(Option::<String>::None),
            )
            .col_expr(signature::Column::Ip, Expr::value(Option::<String>::None))
            .col_expr(
                signature::Column::ConfirmTokenHash,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                signature::Column::WithdrawTokenHash,
                Expr::value(Option::<String>::None),
            )
            .col_expr(signature::Column::ShowName, Expr::value(false))
            .filter(signature::Column::CampaignId.eq(found.id))
            .exec(&txn)
            .await?;
        campaign::Entity::update_many()
            .col_expr(campaign::Column::PurgedAt, Expr::value(now))
            .filter(campaign::Column::Id.eq(found.id))
            .exec(&txn)
            .await?;
        audit_entry(
            &txn,
            "retention",
            "campaign.purge",
            json!({
                "campaign": found.slug,
                "signatures": changed.rows_affected,
                "retention_days": found.retention_days,
            }),
            now,
        )
        .await?;
        txn.commit().await?;
        purged.signatures += changed.rows_affected;
        purged.campaigns.push(found.slug);
    }
    Ok(purged)
}

/// Purges every hour until `closing` says stop. The first pass waits a minute, so a
/// process starting up (or a test) is not slowed by it.
pub async fn run_worker(db: DatabaseConnection, mut closing: tokio::sync::watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(FIRST_PASS) => {}
        _ = closing.wait_for(|stop| *stop) => return,
    }
    loop {
        match purge_due(&db, Utc::now()).await {
            Ok(purged) if !purged.campaigns.is_empty() => {
                tracing::info!(?purged, "signers' details purged");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "the retention pass failed; retrying later"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = closing.wait_for(|stop| *stop) => return,
        }
    }
}
