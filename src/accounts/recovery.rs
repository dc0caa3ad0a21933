//! Recovery codes: ten single-use codes a person keeps on paper, each good in place of a
//! code from the authenticator app, so a lost phone does not need an admin. Shown once
//! when made, stored as hashes; making new ones voids the old.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use serde_json::json;

use crate::{
    accounts::{self, CodeError},
    audit::audit_entry,
    domain::{RecoveryCode, Token},
    entities::{recovery_code, session, user},
    store::db,
};

/// How many codes a person gets at a time.
pub const CODES: usize = 10;

/// New codes for a person who gave the second factor in this session; the old ones stop
/// working. The codes are returned once, as they are to be shown.
pub async fn make_codes(
    db: &DatabaseConnection,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    let codes: Vec<RecoveryCode> = (0..CODES).map(|_| RecoveryCode::generate()).collect();
    let txn = db::begin_write(db).await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    recovery_code::Entity::insert_many(codes.iter().map(|code| recovery_code::ActiveModel {
        user_id: Set(user_id),
        code_hash: Set(code.hash()),
        created_at: Set(now),
        used_at: Set(None),
        ..Default::default()
    }))
    .exec_without_returning(&txn)
    .await?;
    audit_entry(
        &txn,
        &format!("user:{user_id}"),
        "user.recovery_codes",
        json!({"user": user_id, "codes": CODES}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(codes.iter().map(RecoveryCode::display).collect())
}

/// How many unused codes a person has left.
pub async fn codes_left(db: &DatabaseConnection, user_id: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await
}

/// Takes a recovery code in place of the app's code: counted against the same limits
/// as a code (before it is checked), spent once, and the session replaced by one that has
/// given its second factor.
pub async fn use_code(
    db: &DatabaseConnection,
    token: &str,
    code: &RecoveryCode,
    now: DateTime<Utc>,
) -> Result<Token, CodeError> {
    let (found, account) = accounts::half_signed_session(db, token, now).await?;
    if account.totp_enabled_at.is_none() {
        return Err(CodeError::NotEnrolled);
    }
    accounts::count_code_attempt(db, &found, account.id, now).await?;
    let txn = db::begin_write(db).await?;
    // Spent only if still unspent: two tabs cannot both use one code.
    let spent = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .filter(recovery_code::Column::UserId.eq(account.id))
        .filter(recovery_code::Column::CodeHash.eq(code.hash()))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        drop(txn);
        return Err(accounts::wrong_code(db, &found, &account, now).await);
    }
    user::Entity::update_many()
        .col_expr(user::Column::FailedCodes, Expr::value(0))
        .col_expr(
            user::Column::FirstFailedCodeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    session::Entity::delete_by_id(found.token_hash)
        .exec(&txn)
        .await?;
    let token = accounts::open_session(&txn, account.id, true, now).await?;
    audit_entry(
        &txn,
        &format!("user:{}", account.id),
        "user.recovery_code_used",
        json!({"user": account.id}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(token)
}
