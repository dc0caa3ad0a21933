//! Taking access back: disabling (and enabling) an account, revoking one of its grants.
//! Each ends the person's sessions in the same transaction, so their next request is
//! refused, and is audited with who did it and why. API keys the person made stop with
//! their access (see `access::key_caller`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use serde_json::json;

use crate::{
    accounts::{self, grants_of, sign_out_everywhere},
    audit::audit_with_reason,
    domain::{AccountEmail, Grant, Language, Token},
    entities::{invitation, role_grant, user},
    live::effects::Effects,
    mail,
    store::db,
};
use sea_orm::ActiveValue::Set;

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("no account for {0}")]
    UnknownAccount(String),
    #[error("that account does not hold that role")]
    NoSuchGrant,
    #[error("that account holds no role: there is nothing to sign in for")]
    NoRole,
    #[error("say who is doing this and why: both go to the audit log")]
    Unexplained,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Who takes access back, and why: both kept in the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Why<'a> {
    pub by: &'a str,
    pub reason: &'a str,
}

impl Why<'_> {
    fn check(&self) -> Result<(), RevokeError> {
        if self.by.trim().is_empty() || self.reason.trim().is_empty() {
            return Err(RevokeError::Unexplained);
        }
        Ok(())
    }

    /// The audit entry of an action taken for this reason, in the action's transaction.
    async fn audit(
        &self,
        txn: &impl ConnectionTrait,
        action: &str,
        details: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        audit_with_reason(
            txn,
            self.by.trim(),
            action,
            self.reason.trim(),
            details,
            now,
        )
        .await
    }
}

async fn account(db: &impl ConnectionTrait, email: &str) -> Result<user::Model, RevokeError> {
    let unknown = || RevokeError::UnknownAccount(email.to_owned());
    let parsed = AccountEmail::parse(email).map_err(|_| unknown())?;
    user::Entity::find()
        .filter(user::Column::Email.eq(parsed.as_str()))
        .one(db)
        .await?
        .ok_or_else(unknown)
}

/// Disables an account: it signs in no more, its sessions end and its API keys stop.
pub async fn disable(
    db: &DatabaseConnection,
    email: &str,
    why: Why<'_>,
    now: DateTime<Utc>,
) -> Result<(), RevokeError> {
    why.check()?;
    let txn = db::begin_write(db).await?;
    let found = account(&txn, email).await?;
    user::Entity::update_many()
        .col_expr(user::Column::DisabledAt, Expr::value(now))
        .filter(user::Column::Id.eq(found.id))
        .filter(user::Column::DisabledAt.is_null())
        .exec(&txn)
        .await?;
    let sessions = sign_out_everywhere(&txn, found.id).await?;
    why.audit(
        &txn,
        "user.disable",
        json!({"user": found.id, "sessions_ended": sessions}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Enables an account again, and lifts any lock wrong passwords or codes put on it.
pub async fn enable(
    db: &DatabaseConnection,
    email: &str,
    why: Why<'_>,
    now: DateTime<Utc>,
) -> Result<(), RevokeError> {
    why.check()?;
    let txn = db::begin_write(db).await?;
    let found = account(&txn, email).await?;
    let never = Option::<DateTime<Utc>>::None;
    user::Entity::update_many()
        .col_expr(user::Column::DisabledAt, Expr::value(never))
        .col_expr(user::Column::FailedSignIns, Expr::value(0))
        .col_expr(user::Column::LastFailedAt, Expr::value(never))
        .col_expr(user::Column::FailedCodes, Expr::value(0))
        .col_expr(user::Column::FirstFailedCodeAt, Expr::value(never))
        .col_expr(user::Column::LockedUntil, Expr::value(never))
        .filter(user::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    why.audit(&txn, "user.enable", json!({"user": found.id}), now)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Takes one grant from an account; its sessions end, so a page or export open with the
/// old grant is refused on the next request.
pub async fn revoke_grant(
    db: &DatabaseConnection,
    email: &str,
    grant: Grant,
    why: Why<'_>,
    now: DateTime<Utc>,
) -> Result<(), RevokeError> {
    why.check()?;
    let txn = db::begin_write(db).await?;
    let found = account(&txn, email).await?;
    let (role, campaign_id, union_id, local_id) = grant.columns();
    let same = |column: role_grant::Column, value: Option<i64>| match value {
        Some(id) => column.eq(id),
        None => column.is_null(),
    };
    let removed = role_grant::Entity::delete_many()
        .filter(role_grant::Column::UserId.eq(found.id))
        .filter(role_grant::Column::Role.eq(role))
        .filter(same(role_grant::Column::CampaignId, campaign_id))
        .filter(same(role_grant::Column::UnionId, union_id))
        .filter(same(role_grant::Column::LocalId, local_id))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(RevokeError::NoSuchGrant);
    }
    let sessions = sign_out_everywhere(&txn, found.id).await?;
    why.audit(
        &txn,
        "user.revoke",
        json!({"user": found.id, "grant": grant, "sessions_ended": sessions}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An admin forces a password reset: the password stops working at once, every session
/// ends, and the person gets a single-use link by mail (an invitation for a role they
/// hold) to set a new one; their authenticator app stays. Audited.
pub async fn force_password_reset(
    db: &DatabaseConnection,
    email: &str,
    why: Why<'_>,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<Effects, RevokeError> {
    why.check()?;
    let txn = db::begin_write(db).await?;
    let found = account(&txn, email).await?;
    let grant = grants_of(&txn, found.id)
        .await?
        .into_iter()
        .next()
        .ok_or(RevokeError::NoRole)?;
    user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            Expr::value(accounts::PASSWORD_RESET),
        )
        .filter(user::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    let sessions = sign_out_everywhere(&txn, found.id).await?;
    let token = Token::generate();
    let (role, campaign_id, union_id, local_id) = grant.columns();
    invitation::Entity::insert(invitation::ActiveModel {
        token_hash: Set(token.hash().as_str().to_owned()),
        email: Set(found.email.clone()),
        role: Set(role.to_owned()),
        campaign_id: Set(campaign_id),
        union_id: Set(union_id),
        local_id: Set(local_id),
        invited_by: Set(why.by.trim().to_owned()),
        created_at: Set(now),
        expires_at: Set(now + accounts::INVITATION_LIFETIME),
        accepted_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    let language = Language::default();
    let link = format!(
        "{public_url}/invite/{}?lang={}",
        token.as_str(),
        language.code()
    );
    let draft = mail::invitation(
        &found.email,
        &link,
        accounts::INVITATION_LIFETIME.num_days(),
        language,
    );
    mail::enqueue(&txn, draft, now).await?;
    why.audit(
        &txn,
        "user.force_password_reset",
        json!({"user": found.id, "sessions_ended": sessions}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Effects::none().mail())
}
