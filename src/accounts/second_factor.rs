//! The second factor: TOTP codes, counted before they are checked; five wrong codes end
//! the half-signed session and ten within an hour lock the account.

use super::*;

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("sign in again")]
    NoSession,
    #[error("that code is not right; codes change every 30 seconds")]
    Wrong,
    /// The code was wrong, and it was the one too many: the account is locked and its
    /// owner has a mail on the way.
    #[error("that code is not right; codes change every 30 seconds")]
    WrongAndLocked,
    #[error("set up an authenticator app first")]
    NotEnrolled,
    #[error("the authenticator app is already set up")]
    AlreadyEnrolled,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodeError {
    /// What must happen after the refusal: the lock's mail goes.
    pub fn effects(&self) -> Effects {
        match self {
            CodeError::WrongAndLocked => Effects::none().mail(),
            _ => Effects::none(),
        }
    }
}

pub(super) fn totp(secret_base32: &str, account: &str) -> Option<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).ok()?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .ok()
}

/// The time step a code matches, later than the last one accepted: a code is good once.
pub(super) fn accepted_step(
    totp: &totp_rs::Totp,
    code: &TotpCode,
    last: Option<i64>,
    now: DateTime<Utc>,
) -> Option<i64> {
    let step = totp.check(code.as_str(), Ord::max(now.timestamp(), 0) as u64)? as i64;
    (last.is_none_or(|last| step > last)).then_some(step)
}

/// The session a cookie's token opens and its account, before the second factor.
pub(crate) async fn half_signed_session(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(session::Model, user::Model), CodeError> {
    let token = Token::parse(token).map_err(|_| CodeError::NoSession)?;
    let found = session::Entity::find_by_id(token.hash().as_str().to_owned())
        .one(db)
        .await?
        .filter(|s| s.expires_at > now && now - s.last_seen_at <= SESSION_IDLE)
        .ok_or(CodeError::NoSession)?;
    let account = user::Entity::find_by_id(found.user_id)
        .one(db)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(CodeError::NoSession)?;
    Ok((found, account))
}

/// Takes the code from the authenticator app; the session is replaced by a new one that
/// has given its second factor (a token seen before the code is worth nothing after).
pub async fn verify_code(
    db: &DatabaseConnection,
    token: &str,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Result<Token, CodeError> {
    spend_code(db, token, code, false, now).await
}

/// A code checked against the session's account, spent once, and the session upgraded;
/// `enrolling` for the first code of a newly set-up app, which also turns TOTP on.
pub(super) async fn spend_code(
    db: &DatabaseConnection,
    token: &str,
    code: &TotpCode,
    enrolling: bool,
    now: DateTime<Utc>,
) -> Result<Token, CodeError> {
    let (found, account) = half_signed_session(db, token, now).await?;
    match (enrolling, account.totp_enabled_at.is_some()) {
        (false, false) => return Err(CodeError::NotEnrolled),
        (true, true) => return Err(CodeError::AlreadyEnrolled),
        _ => {}
    }
    let totp = account
        .totp_secret
        .as_deref()
        .and_then(|secret| totp(secret, &account.email))
        .ok_or(CodeError::NotEnrolled)?;
    count_code_attempt(db, &found, account.id, now).await?;
    let Some(step) = accepted_step(&totp, code, account.totp_last_step, now) else {
        return Err(wrong_code(db, &found, &account, now).await);
    };
    upgrade_session(db, found, account, step, enrolling, now).await
}

/// Counts a code attempt against the session and the account before the code is
/// checked, each with a conditional update, so parallel guesses cannot pass either limit.
/// With none left the session ends and the person starts again with the password.
pub(crate) async fn count_code_attempt(
    db: &DatabaseConnection,
    found: &session::Model,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), CodeError> {
    let in_session = session::Entity::update_many()
        .col_expr(
            session::Column::CodeFailures,
            Expr::col(session::Column::CodeFailures).add(1),
        )
        .filter(session::Column::TokenHash.eq(found.token_hash.as_str()))
        .filter(session::Column::CodeFailures.lt(CODE_FAILURES_PER_SESSION))
        .exec(db)
        .await?;
    // An hour after the first wrong code, the account's count starts again.
    user::Entity::update_many()
        .col_expr(user::Column::FailedCodes, Expr::value(0))
        .col_expr(
            user::Column::FirstFailedCodeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::FirstFailedCodeAt.lte(now - CODE_WINDOW))
        .exec(db)
        .await?;
    let in_account = if in_session.rows_affected == 1 {
        user::Entity::update_many()
            .col_expr(
                user::Column::FailedCodes,
                Expr::col(user::Column::FailedCodes).add(1),
            )
            .col_expr(
                user::Column::FirstFailedCodeAt,
                sea_orm::sea_query::Func::coalesce([
                    Expr::col(user::Column::FirstFailedCodeAt),
                    Expr::value(now),
                ])
                .into(),
            )
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::FailedCodes.lt(CODE_FAILURES_BEFORE_LOCKOUT))
            .filter(not_locked(now))
            .exec(db)
            .await?
            .rows_affected
    } else {
        0
    };
    if in_account != 1 {
        session::Entity::delete_by_id(found.token_hash.clone())
            .exec(db)
            .await?;
        return Err(CodeError::NoSession);
    }
    Ok(())
}

/// After a wrong code: the fifth in this session ends it, and the tenth within the hour
/// locks the account, audited, with a mail to its owner, in one transaction (and says so,
/// so the caller rings the mail bell).
pub(crate) async fn wrong_code(
    db: &DatabaseConnection,
    found: &session::Model,
    account: &user::Model,
    now: DateTime<Utc>,
) -> CodeError {
    match lock_after_wrong_code(db, found, account, now).await {
        Ok(false) => CodeError::Wrong,
        Ok(true) => CodeError::WrongAndLocked,
        Err(err) => CodeError::Db(err),
    }
}

pub(super) async fn lock_after_wrong_code(
    db: &DatabaseConnection,
    found: &session::Model,
    account: &user::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(found.token_hash.as_str()))
        .filter(session::Column::CodeFailures.gte(CODE_FAILURES_PER_SESSION))
        .exec(db)
        .await?;
    let txn = db::begin_write(db).await?;
    // Only the request that finds the count full locks (and mails), once.
    let locked = user::Entity::update_many()
        .col_expr(user::Column::LockedUntil, Expr::value(now + LOCKOUT))
        .col_expr(user::Column::FailedCodes, Expr::value(0))
        .col_expr(
            user::Column::FirstFailedCodeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::FailedCodes.gte(CODE_FAILURES_BEFORE_LOCKOUT))
        .exec(&txn)
        .await?;
    if locked.rows_affected != 1 {
        return Ok(false);
    }
    // The half-signed sessions go with it; those that gave a code stay theirs.
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(account.id))
        .filter(session::Column::SecondFactor.eq(false))
        .exec(&txn)
        .await?;
    audit_entry(
        &txn,
        "sign-in",
        "user.lock_wrong_codes",
        json!({"user": account.id, "until": now + LOCKOUT}),
        now,
    )
    .await?;
    let draft = mail::account_locked(
        &account.email,
        CODE_FAILURES_BEFORE_LOCKOUT,
        LOCKOUT.num_minutes(),
        Language::default(),
    );
    mail::enqueue(&txn, draft, now).await?;
    txn.commit().await?;
    Ok(true)
}

pub(super) async fn upgrade_session(
    db: &DatabaseConnection,
    found: session::Model,
    account: user::Model,
    step: i64,
    enrolling: bool,
    now: DateTime<Utc>,
) -> Result<Token, CodeError> {
    let txn = db::begin_write(db).await?;
    // The step only moves forward, so two tabs cannot both spend one code.
    let mut spent = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(account.id));
    spent = match account.totp_last_step {
        Some(last) => spent.filter(user::Column::TotpLastStep.eq(last)),
        None => spent.filter(user::Column::TotpLastStep.is_null()),
    };
    if enrolling {
        spent = spent.col_expr(user::Column::TotpEnabledAt, Expr::value(now));
    }
    // The right code forgives the wrong ones before it.
    spent = spent
        .col_expr(user::Column::FailedCodes, Expr::value(0))
        .col_expr(
            user::Column::FirstFailedCodeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    if spent.exec(&txn).await?.rows_affected != 1 {
        return Err(CodeError::Wrong);
    }
    session::Entity::delete_by_id(found.token_hash)
        .exec(&txn)
        .await?;
    let token = open_session(&txn, account.id, true, now).await?;
    if enrolling {
        audit_entry(
            &txn,
            &format!("user:{}", account.id),
            "user.totp_enabled",
            json!({"user": account.id}),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(token)
}

/// What a person needs to add Rollcall to an authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub url: String,
    /// The QR code, as an SVG document made here.
    pub qr_svg: String,
}

/// Starts (or shows again) setting up the authenticator app for a signed-in user who
/// has none yet.
pub async fn begin_enrolment(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Enrolment, CodeError> {
    let (_, account) = half_signed_session(db, token, now).await?;
    if account.totp_enabled_at.is_some() {
        return Err(CodeError::AlreadyEnrolled);
    }
    let secret = match account.totp_secret.clone() {
        Some(secret) => secret,
        None => {
            let mut bytes = [0u8; 20];
            getrandom::fill(&mut bytes).expect("the operating system's random source failed");
            let secret = totp_rs::Secret::from(bytes.to_vec()).to_base32();
            let mut pending = account.clone().into_active_model();
            pending.totp_secret = Set(Some(secret.clone()));
            pending.update(db).await?;
            secret
        }
    };
    let totp = totp(&secret, &account.email)
        .ok_or_else(|| DbErr::Custom("a stored TOTP secret does not parse".into()))?;
    let url = totp
        .to_url()
        .map_err(|err| DbErr::Custom(format!("TOTP address: {err}")))?;
    let qr_svg = crate::domain::qr::svg(&url, 200)
        .map_err(|err| DbErr::Custom(format!("QR code: {err}")))?;
    Ok(Enrolment {
        secret,
        url,
        qr_svg,
    })
}

/// Finishes setting up the app with its first code; the session has then given its
/// second factor.
pub async fn finish_enrolment(
    db: &DatabaseConnection,
    token: &str,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Result<Token, CodeError> {
    spend_code(db, token, code, true, now).await
}

/// For a person who lost their authenticator: their TOTP is turned off and every session
/// ends, so their next sign-in sets up a new app. An admin's act on the command line,
/// audited. Whether there was such an account.
pub async fn reset_second_factor(
    db: &DatabaseConnection,
    email: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Ok(email) = AccountEmail::parse(email) else {
        return Ok(false);
    };
    let txn = db::begin_write(db).await?;
    let Some(account) = existing_user(&txn, email.as_str()).await? else {
        return Ok(false);
    };
    user::Entity::update_many()
        .col_expr(
            user::Column::TotpSecret,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            user::Column::TotpEnabledAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        // The steps spent belong to the old key; the new one starts afresh.
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    sign_out_everywhere(&txn, account.id).await?;
    audit_entry(
        &txn,
        by,
        "user.reset_second_factor",
        json!({"user": account.id}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}
