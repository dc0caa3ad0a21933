//! Signing in with a password (each attempt counted before the password is checked, with a
//! lockout kept in the database) and the server-side sessions it opens.

use super::*;

/// The grants a user holds; rows no grant could have written are skipped.
pub async fn grants_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<Grant>, DbErr> {
    Ok(role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| {
            Grant::from_columns(&row.role, row.campaign_id, row.union_id, row.local_id)
        })
        .collect())
}

/// What the person must do next after a right password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    /// Give the code from their authenticator app.
    Code,
    /// Set up an authenticator app first.
    Enrol,
}

#[derive(Debug)]
pub struct SignedIn {
    /// For the session cookie.
    pub token: Token,
    pub next: SecondStep,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// A wrong address, a wrong password, a locked or a disabled account get the same
    /// answer in the same time, so nobody learns which addresses have accounts.
    #[error("that email and password do not match an account")]
    Wrong,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Checks a password and opens a session that still needs its second factor.
pub async fn sign_in(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<SignedIn, SignInError> {
    let found = match AccountEmail::parse(email) {
        Ok(email) => {
            user::Entity::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let account = match found.filter(|u| u.disabled_at.is_none()) {
        Some(account) if count_password_attempt(db, account.id, now).await? => account,
        // Unknown, disabled or locked: the decoy takes as long as a real check.
        _ => {
            password_matches(decoy_hash().await.to_owned(), password.to_owned()).await;
            return Err(SignInError::Wrong);
        }
    };
    if !password_matches(account.password_hash.clone(), password.to_owned()).await {
        return Err(SignInError::Wrong);
    }
    // The right password: the attempt just counted, and those before it, are forgiven.
    user::Entity::update_many()
        .col_expr(user::Column::FailedSignIns, Expr::value(0))
        .filter(user::Column::Id.eq(account.id))
        .exec(db)
        .await?;
    // Sessions end by themselves when touched late; those never touched again go here.
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(account.id))
        .filter(session::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let token = open_session(db, account.id, false, now).await?;
    let next = if account.totp_enabled_at.is_some() {
        SecondStep::Code
    } else {
        SecondStep::Enrol
    };
    Ok(SignedIn { token, next })
}

/// Counts a password attempt before the password is checked, and only while the account
/// has attempts left and no lock: parallel guesses cannot pass the limit, since each
/// takes one in a conditional update. Whether this attempt may go on.
pub(super) async fn count_password_attempt(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    // A count whose last attempt is older than the lockout starts again.
    user::Entity::update_many()
        .col_expr(user::Column::FailedSignIns, Expr::value(0))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::FailedSignIns.gt(0))
        .filter(user::Column::LastFailedAt.lte(now - LOCKOUT))
        .exec(db)
        .await?;
    let counted = user::Entity::update_many()
        .col_expr(
            user::Column::FailedSignIns,
            Expr::col(user::Column::FailedSignIns).add(1),
        )
        .col_expr(user::Column::LastFailedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::DisabledAt.is_null())
        .filter(user::Column::FailedSignIns.lt(FAILURES_BEFORE_LOCKOUT))
        .filter(not_locked(now))
        .exec(db)
        .await?;
    Ok(counted.rows_affected == 1)
}

/// No lock set by wrong codes, or one that has passed.
pub(super) fn not_locked(now: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(user::Column::LockedUntil.is_null())
        .add(user::Column::LockedUntil.lte(now))
}

pub(crate) async fn open_session(
    db: &impl ConnectionTrait,
    user_id: i64,
    second_factor: bool,
    now: DateTime<Utc>,
) -> Result<Token, DbErr> {
    let token = Token::generate();
    session::Entity::insert(session::ActiveModel {
        token_hash: Set(token.hash().as_str().to_owned()),
        user_id: Set(user_id),
        second_factor: Set(second_factor),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + SESSION_LIFETIME),
        code_failures: Set(0),
    })
    .exec_without_returning(db)
    .await?;
    Ok(token)
}

/// Who a live session belongs to.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: i64,
    pub email: String,
    /// Whether this session gave a TOTP code.
    pub second_factor: bool,
    pub totp_enabled: bool,
    pub grants: Vec<Grant>,
}

/// The session a cookie's token opens, if it is live; touching it keeps it so.
pub async fn session(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionUser>, DbErr> {
    let Ok(token) = Token::parse(token) else {
        return Ok(None);
    };
    let Some(found) = session::Entity::find_by_id(token.hash().as_str().to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if found.expires_at <= now || now - found.last_seen_at > SESSION_IDLE {
        session::Entity::delete_by_id(found.token_hash)
            .exec(db)
            .await?;
        return Ok(None);
    }
    let Some(account) = user::Entity::find_by_id(found.user_id)
        .one(db)
        .await?
        .filter(|u| u.disabled_at.is_none())
    else {
        return Ok(None);
    };
    // A write a minute at most, not one a page view.
    if now - found.last_seen_at > Duration::minutes(1) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::TokenHash.eq(found.token_hash.clone()))
            .exec(db)
            .await?;
    }
    Ok(Some(SessionUser {
        user_id: account.id,
        email: account.email,
        second_factor: found.second_factor,
        totp_enabled: account.totp_enabled_at.is_some(),
        grants: grants_of(db, account.id).await?,
    }))
}

/// Ends one session.
pub async fn sign_out(db: &impl ConnectionTrait, token: &str) -> Result<(), DbErr> {
    if let Ok(token) = Token::parse(token) {
        session::Entity::delete_by_id(token.hash().as_str().to_owned())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Ends every session of a user, on every device.
pub async fn sign_out_everywhere(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
