//! Moderation of one signature at a time: an organizer invalidates a signature that
//! should not count (a report of fraud, a signer who says it was not them) or restores
//! one invalidated by mistake, with a reason. The status, the tally and the audit entry
//! change in one transaction. Bulk work goes through `invalidating`'s filters.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::{
    accounts::access::{self, Caller},
    audit::audit_entry,
    domain::{CampaignId, LocalId},
    domain::{SignatureStatus, SignerEmail},
    entities::signature,
    live::effects::Effects,
    store::campaigns,
    store::db,
    store::tally,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Invalidate,
    Restore,
}

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error("no campaign with that slug")]
    UnknownCampaign,
    #[error("only the campaign's organizers and admins moderate its signatures")]
    Forbidden,
    #[error("no signature with that email on this campaign")]
    NotFound,
    #[error("say why: the reason is kept in the audit log")]
    NoReason,
    #[error("that signature is not counted already")]
    NotCounted,
    #[error("that signature is not invalidated")]
    NotInvalidated,
    #[error("that signature is being changed by someone else")]
    ChangedMeanwhile,
    /// A signature invalidated before it was confirmed has no confirmation to restore.
    #[error("that signature was never confirmed; the signer can sign again")]
    NeverConfirmed,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What changed, for the tally hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moderated {
    pub campaign_id: i64,
    pub local_id: Option<i64>,
    /// The change to the confirmed count: -1, 0 or 1.
    pub delta: i64,
}

impl Moderated {
    pub fn effects(&self) -> Effects {
        if self.delta == 0 {
            return Effects::none();
        }
        let campaign = CampaignId(self.campaign_id);
        Effects::none()
            .moved(campaign, self.local_id.map(LocalId), self.delta)
            .reread(campaign)
            .judge_pledges()
    }
}

/// Invalidates or restores the signature `email` made on the campaign `slug`.
pub async fn moderate(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    email: &str,
    action: Action,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Moderated, ModerationError> {
    if reason.trim().is_empty() {
        return Err(ModerationError::NoReason);
    }
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .ok_or(ModerationError::UnknownCampaign)?;
    let directory = campaigns::directory(db, &campaign).await?;
    // Officers see their signers but do not strike them off; a union's organizer strikes
    // off only that union's locals' signers.
    let scope = access::organizing_scope(caller, &campaign, &directory)
        .ok_or(ModerationError::Forbidden)?;
    let canonical = SignerEmail::parse(email)
        .map_err(|_| ModerationError::NotFound)?
        .canonical();
    let txn = db::begin_write(db).await?;
    let found = signature::Entity::find()
        .filter(signature::Column::CampaignId.eq(campaign.id))
        .filter(signature::Column::CanonicalEmail.eq(canonical.as_str()))
        .one(&txn)
        .await?
        .filter(|s| scope.includes_local(s.local_id))
        // Nor can anyone learn by moderating whether someone pledged in a sealed local.
        .filter(|s| {
            s.local_id
                .is_none_or(|local_id| !crate::pledges::is_sealed(&campaign, &directory, local_id))
        })
        .ok_or(ModerationError::NotFound)?;
    let (to, delta) = match (action, found.status) {
        (Action::Invalidate, SignatureStatus::Confirmed) => (SignatureStatus::Invalidated, -1),
        (Action::Invalidate, SignatureStatus::Pending) => (SignatureStatus::Invalidated, 0),
        (Action::Invalidate, _) => return Err(ModerationError::NotCounted),
        (Action::Restore, SignatureStatus::Invalidated) if found.confirmed_at.is_some() => {
            (SignatureStatus::Confirmed, 1)
        }
        (Action::Restore, SignatureStatus::Invalidated) => {
            return Err(ModerationError::NeverConfirmed);
        }
        (Action::Restore, _) => return Err(ModerationError::NotInvalidated),
    };
    let invalidated_at = (to == SignatureStatus::Invalidated).then_some(now);
    // Conditional on the status read, so a confirmation in between is not lost.
    let changed = signature::Entity::update_many()
        .col_expr(signature::Column::Status, Expr::value(to))
        .col_expr(
            signature::Column::InvalidatedAt,
            Expr::value(invalidated_at),
        )
        .col_expr(
            signature::Column::ConfirmTokenHash,
            Expr::value(Option::<String>::None),
        )
        .filter(signature::Column::Id.eq(found.id))
        .filter(signature::Column::Status.eq(found.status))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(ModerationError::ChangedMeanwhile);
    }
    if delta != 0 {
        tally::add(&txn, campaign.id, found.local_id, found.id, delta).await?;
    }
    if let (1, Some(local_id)) = (delta, found.local_id) {
        crate::pledges::check_local(&txn, &campaign, local_id, now).await?;
    }
    audit_entry(
        &txn,
        &caller.label(),
        match action {
            Action::Invalidate => "signature.invalidate",
            Action::Restore => "signature.restore",
        },
        json!({
            "campaign": campaign.slug,
            "signature": found.id,
            "reason": reason.trim(),
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Moderated {
        campaign_id: campaign.id,
        local_id: found.local_id,
        delta,
    })
}
