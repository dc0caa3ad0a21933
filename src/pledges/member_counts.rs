//! Member counts once a pledge is open: frozen into the campaign's locals, and an
//! officer's later count waits for an organizer to accept or refuse it.

use super::*;
use crate::{domain::CampaignId, live::effects::Effects};

#[derive(Debug, thiserror::Error)]
pub enum MemberCountChoiceError {
    #[error("only the campaign's organizers accept a new member count")]
    Forbidden,
    #[error("there is no new member count waiting for this local")]
    NothingWaiting,
    #[error("no such campaign")]
    UnknownCampaign,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Records an officer's new member count against every unsettled pledge the local is
/// frozen into: it waits there for an organizer. Call it in the transaction that sets
/// the count.
pub async fn propose_member_count(
    txn: &impl ConnectionTrait,
    local_id: i64,
    count: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let unsettled: Vec<i64> = campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .filter(campaign::Column::Kind.eq(CampaignKind::Pledge))
        .filter(campaign::Column::EndedAt.is_null())
        .into_tuple()
        .all(txn)
        .await?;
    let frozen = || {
        campaign_local::Entity::update_many()
            .filter(campaign_local::Column::LocalId.eq(local_id))
            .filter(campaign_local::Column::CampaignId.is_in(unsettled.clone()))
            .filter(campaign_local::Column::FrozenAt.is_not_null())
    };
    // The same count as the frozen one needs nobody's approval.
    without_proposal(frozen())
        .filter(campaign_local::Column::MemberCount.eq(count))
        .exec(txn)
        .await?;
    frozen()
        .col_expr(
            campaign_local::Column::ProposedMemberCount,
            Expr::value(count),
        )
        .col_expr(campaign_local::Column::ProposedAt, Expr::value(now))
        .col_expr(campaign_local::Column::ProposedBy, Expr::value(by))
        .filter(
            sea_orm::Condition::any()
                .add(campaign_local::Column::MemberCount.ne(count))
                .add(campaign_local::Column::MemberCount.is_null()),
        )
        .exec(txn)
        .await?;
    Ok(())
}

/// Clears the member count waiting for an organizer.
pub(super) fn without_proposal(
    update: sea_orm::UpdateMany<campaign_local::Entity>,
) -> sea_orm::UpdateMany<campaign_local::Entity> {
    update
        .col_expr(
            campaign_local::Column::ProposedMemberCount,
            Expr::value(None::<i64>),
        )
        .col_expr(
            campaign_local::Column::ProposedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            campaign_local::Column::ProposedBy,
            Expr::value(None::<String>),
        )
}

/// An organizer accepts (or, with `accept` false, declines) the member count an officer
/// proposed for a local of a pledge. Accepting it becomes the pledge's denominator; a
/// local that had reached stays reached. The campaign's id, so its tally can be re-read.
pub async fn decide_member_count(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    local_id: i64,
    accept: bool,
    now: DateTime<Utc>,
) -> Result<Effects, MemberCountChoiceError> {
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .ok_or(MemberCountChoiceError::UnknownCampaign)?;
    if !access::edits_campaign(caller, campaign.id) {
        return Err(MemberCountChoiceError::Forbidden);
    }
    let txn = db::begin_write(db).await?;
    let row = campaign_local::Entity::find_by_id((campaign.id, local_id))
        .one(&txn)
        .await?
        .filter(|row| row.proposed_member_count.is_some())
        .ok_or(MemberCountChoiceError::NothingWaiting)?;
    let mut update = without_proposal(campaign_local::Entity::update_many());
    if accept {
        update = update.col_expr(
            campaign_local::Column::MemberCount,
            Expr::value(row.proposed_member_count),
        );
    }
    // Conditional on the proposal read: a newer one in between is not decided unseen.
    let decided = update
        .filter(campaign_local::Column::CampaignId.eq(campaign.id))
        .filter(campaign_local::Column::LocalId.eq(local_id))
        .filter(campaign_local::Column::ProposedAt.eq(row.proposed_at))
        .exec(&txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(MemberCountChoiceError::NothingWaiting);
    }
    audit_entry(
        &txn,
        &caller.label(),
        if accept {
            "pledge.member_count_accepted"
        } else {
            "pledge.member_count_declined"
        },
        json!({
            "campaign": campaign.slug,
            "local": local_id,
            "from": row.member_count,
            "proposed": row.proposed_member_count,
            "proposed_by": row.proposed_by,
        }),
        now,
    )
    .await?;
    if accept {
        check_local(&txn, &campaign, local_id, now).await?;
    }
    txn.commit().await?;
    Ok(Effects::none()
        .reread(CampaignId(campaign.id))
        .judge_pledges())
}
