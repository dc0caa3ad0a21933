//! Withdrawing: the receipt's link opens a page (GET changes nothing); its button POSTs,
//! and the signature stops counting, in one transaction with its tally row.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, sea_query::Expr};

use crate::{
    domain::SignatureStatus,
    domain::{CampaignId, LocalId},
    entities::signature,
    live::effects::Effects,
    store::db,
    store::lookup::{LookupError, TokenColumn, find_by_token, signature_view},
    store::tally,
    views::SignatureView,
};

#[derive(Debug, thiserror::Error)]
pub enum WithdrawError {
    #[error("the withdrawal link is not one we sent")]
    Unknown,
    #[error("withdrawing failed")]
    Unexpected(#[from] DbErr),
}

impl From<LookupError> for WithdrawError {
    fn from(err: LookupError) -> Self {
        match err {
            LookupError::Unknown => WithdrawError::Unknown,
            LookupError::Database(err) => WithdrawError::Unexpected(err),
        }
    }
}

/// What the withdraw page shows: the signature, confirmed or already withdrawn.
pub async fn withdrawal_view(
    db: &DatabaseConnection,
    token: &str,
) -> Result<SignatureView, WithdrawError> {
    let found = find_by_token(db, TokenColumn::Withdraw, token).await?;
    Ok(signature_view(db, found).await?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub campaign_id: i64,
    pub campaign_slug: String,
    pub local_id: Option<i64>,
    /// False when it had already been withdrawn (or was invalidated): nothing changed.
    pub newly_withdrawn: bool,
    /// A pledge's: its locals' "withdrawn since" moved.
    pub pledge: bool,
}

impl Withdrawn {
    /// The count, and for a pledge its locals' standing.
    pub fn effects(&self) -> Effects {
        let campaign = CampaignId(self.campaign_id);
        if !self.newly_withdrawn {
            return Effects::none();
        }
        let effects = Effects::none().moved(campaign, self.local_id.map(LocalId), -1);
        if self.pledge {
            effects.reread(campaign)
        } else {
            effects
        }
    }
}

/// Withdraws the signature behind `token`: it stops counting at once. Pressing twice
/// withdraws once.
pub async fn withdraw(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Withdrawn, WithdrawError> {
    let txn = db::begin_write(db).await?;
    let found = find_by_token(&txn, TokenColumn::Withdraw, token).await?;
    // Conditional on still being confirmed, so concurrent presses subtract once.
    let updated = signature::Entity::update_many()
        .col_expr(
            signature::Column::Status,
            Expr::value(SignatureStatus::Withdrawn),
        )
        .col_expr(signature::Column::WithdrawnAt, Expr::value(now))
        .filter(signature::Column::Id.eq(found.signature.id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .exec(&txn)
        .await?;
    let newly_withdrawn = updated.rows_affected == 1;
    if newly_withdrawn {
        let signature = &found.signature;
        tally::add(
            &txn,
            signature.campaign_id,
            signature.local_id,
            signature.id,
            -1,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Withdrawn {
        pledge: crate::entities::campaign::is_pledge(&found.campaign),
        campaign_id: found.campaign.id,
        campaign_slug: found.campaign.slug,
        local_id: found.signature.local_id,
        newly_withdrawn,
    })
}
