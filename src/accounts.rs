//! Accounts of the people who run campaigns: passwords hashed with Argon2id, sign-in
//! with a per-account lockout kept in the database (so it holds across processes),
//! server-side sessions whose cookie token is stored only as a hash, a TOTP second
//! factor, and single-use invitations.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{Error as HashError, SaltString},
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use crate::{
    db,
    domain::{AccountEmail, FieldProblem, Grant, Language, Password, Token, TotpCode},
    entities::{audit, invitation, role_grant, session, user},
    mail,
};

/// A session lasts this long from sign-in, however active.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);
/// A session unused this long ends.
pub const SESSION_IDLE: Duration = Duration::hours(2);
/// After this many wrong passwords in a row the account waits [`LOCKOUT`].
pub const FAILURES_BEFORE_LOCKOUT: i32 = 10;
pub const LOCKOUT: Duration = Duration::minutes(15);
/// After this many wrong codes a half-signed session ends: its holder starts again with
/// the password.
pub const CODE_FAILURES_PER_SESSION: i32 = 5;
/// This many wrong codes within [`CODE_WINDOW`], across sessions, lock the account for
/// [`LOCKOUT`] (or until `rollcall admin enable`), and its owner is told by mail.
pub const CODE_FAILURES_BEFORE_LOCKOUT: i32 = 10;
pub const CODE_WINDOW: Duration = Duration::hours(1);
/// What the Argon2 hashes in flight may take together: each takes its `m_cost`.
const HASHING_MEMORY_BUDGET_KIB: u32 = 64 * 1024;
/// The password hash of an account an admin reset: no password matches it (it is no PHC
/// string), and an invitation link sets a new one.
pub(crate) const PASSWORD_RESET: &str = "";
/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);
/// The name the authenticator app shows beside the code.
const TOTP_ISSUER: &str = "Rollcall";

/// Permits to run an Argon2 hash: a burst of sign-ins waits its turn here rather than
/// taking 19 MiB each at once. min(cores × 2, budget / m_cost), at least one.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let by_memory = (HASHING_MEMORY_BUDGET_KIB / argon2::Params::DEFAULT_M_COST) as usize;
        tokio::sync::Semaphore::new(Ord::max(Ord::min(cores * 2, by_memory), 1))
    })
}

/// Hashes a password with Argon2id's recommended parameters, off the async threads.
pub async fn hash_password(password: &Password) -> Result<String, DbErr> {
    let password = password.as_str().to_owned();
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|err| DbErr::Custom(format!("password hashing stopped: {err}")))?;
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the operating system's random source failed");
        let salt = SaltString::encode_b64(&salt).map_err(hash_failed)?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(hash_failed)
    })
    .await
    .map_err(|err| DbErr::Custom(format!("password hashing stopped: {err}")))?
}

fn hash_failed(err: HashError) -> DbErr {
    DbErr::Custom(format!("password hashing failed: {err}"))
}

/// Whether `candidate` matches `hash`; a hash that does not parse matches nothing.
pub(crate) async fn password_matches(hash: String, candidate: String) -> bool {
    let Ok(_permit) = hashing_permits().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A hash of nothing anyone knows, checked when the address has no account so that a
/// wrong address takes as long to refuse as a wrong password.
pub(crate) async fn decoy_hash() -> &'static str {
    static DECOY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DECOY
        .get_or_init(|| async {
            let password = Password::parse(Token::generate().as_str()).expect("43 characters");
            hash_password(&password).await.unwrap_or_default()
        })
        .await
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the email address is not valid")]
    Email(FieldProblem),
    #[error("the password must have at least {} characters", Password::MIN_CHARS)]
    Password(FieldProblem),
    #[error("there is already an account for that address")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Makes an account holding `grants`, audited as done `by` someone.
pub async fn create_user(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    grants: &[Grant],
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64, CreateUserError> {
    let email = AccountEmail::parse(email).map_err(CreateUserError::Email)?;
    let password = Password::parse(password).map_err(CreateUserError::Password)?;
    let hash = hash_password(&password).await?;
    let txn = db::begin_write(db).await?;
    let inserted = user::Entity::insert(new_user(&email, hash, now))
        .exec(&txn)
        .await;
    let user_id = match inserted {
        Ok(done) => done.last_insert_id,
        Err(err) if db::is_unique_violation(&err) => return Err(CreateUserError::Taken),
        Err(err) => return Err(err.into()),
    };
    for grant in grants {
        insert_grant(&txn, user_id, *grant, by, now).await?;
    }
    audit_entry(
        &txn,
        by,
        "user.create",
        json!({"user": user_id, "email": email.as_str(), "grants": grants}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(user_id)
}

fn new_user(email: &AccountEmail, password_hash: String, now: DateTime<Utc>) -> user::ActiveModel {
    user::ActiveModel {
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        totp_secret: Set(None),
        totp_enabled_at: Set(None),
        totp_last_step: Set(None),
        failed_sign_ins: Set(0),
        last_failed_at: Set(None),
        created_at: Set(now),
        disabled_at: Set(None),
        failed_codes: Set(0),
        first_failed_code_at: Set(None),
        locked_until: Set(None),
        ..Default::default()
    }
}

async fn insert_grant(
    txn: &impl ConnectionTrait,
    user_id: i64,
    grant: Grant,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (role, campaign_id, union_id, local_id) = grant.columns();
    role_grant::Entity::insert(role_grant::ActiveModel {
        user_id: Set(user_id),
        role: Set(role.to_owned()),
        campaign_id: Set(campaign_id),
        union_id: Set(union_id),
        local_id: Set(local_id),
        granted_by: Set(by.to_owned()),
        granted_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(crate) async fn audit_entry(
    txn: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit_with_reason(txn, actor, action, "", details, now).await
}

pub(crate) async fn audit_with_reason(
    txn: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    reason: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit::Entity::insert(audit::ActiveModel {
        at: Set(now),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        campaign_id: Set(None),
        reason: Set(reason.to_owned()),
        details: Set(details.to_string()),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

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
async fn count_password_attempt(
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
fn not_locked(now: DateTime<Utc>) -> sea_orm::Condition {
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

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("sign in again")]
    NoSession,
    #[error("that code is not right; codes change every 30 seconds")]
    Wrong,
    #[error("set up an authenticator app first")]
    NotEnrolled,
    #[error("the authenticator app is already set up")]
    AlreadyEnrolled,
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn totp(secret_base32: &str, account: &str) -> Option<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).ok()?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .ok()
}

/// The time step a code matches, later than the last one accepted: a code is good once.
fn accepted_step(
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
async fn spend_code(
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
/// locks the account, audited, with a mail to its owner, in one transaction.
pub(crate) async fn wrong_code(
    db: &DatabaseConnection,
    found: &session::Model,
    account: &user::Model,
    now: DateTime<Utc>,
) -> CodeError {
    match lock_after_wrong_code(db, found, account, now).await {
        Ok(()) => CodeError::Wrong,
        Err(err) => CodeError::Db(err),
    }
}

async fn lock_after_wrong_code(
    db: &DatabaseConnection,
    found: &session::Model,
    account: &user::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
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
        return Ok(());
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
    let draft = mail::account_locked(&account.email, LOCKOUT.num_minutes(), Language::default());
    mail::enqueue(&txn, draft, now).await?;
    txn.commit().await
}

async fn upgrade_session(
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
    let qr_svg =
        crate::qr::svg(&url, 200).map_err(|err| DbErr::Custom(format!("QR code: {err}")))?;
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

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("only admins invite")]
    Forbidden,
    #[error("the email address is not valid")]
    Email(FieldProblem),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What an admin's invitation says: to whom, for what, and in which language.
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    pub email: &'a str,
    pub grant: Grant,
    pub language: Language,
}

/// An admin sends a single-use link that grants `grant` to whoever sets a password
/// from it. The invitation, its mail and the audit entry are written in one transaction.
pub async fn invite(
    db: &DatabaseConnection,
    caller: &crate::access::Caller,
    Invitation {
        email,
        grant,
        language,
    }: Invitation<'_>,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<(), InviteError> {
    if !caller.is_admin() {
        return Err(InviteError::Forbidden);
    }
    let by = caller.label();
    let by = by.as_str();
    let email = AccountEmail::parse(email).map_err(InviteError::Email)?;
    let token = Token::generate();
    let (role, campaign_id, union_id, local_id) = grant.columns();
    let txn = db::begin_write(db).await?;
    invitation::Entity::insert(invitation::ActiveModel {
        token_hash: Set(token.hash().as_str().to_owned()),
        email: Set(email.as_str().to_owned()),
        role: Set(role.to_owned()),
        campaign_id: Set(campaign_id),
        union_id: Set(union_id),
        local_id: Set(local_id),
        invited_by: Set(by.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + INVITATION_LIFETIME),
        accepted_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    // The link opens the invitation page in the mail's language.
    let link = format!(
        "{public_url}/invite/{}?lang={}",
        token.as_str(),
        language.code()
    );
    let draft = mail::invitation(
        email.as_str(),
        &link,
        INVITATION_LIFETIME.num_days(),
        language,
    );
    mail::enqueue(&txn, draft, now).await?;
    audit_entry(
        &txn,
        by,
        "user.invite",
        json!({"email": email.as_str(), "grant": grant}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("this invitation link is not valid, or was used already")]
    Unknown,
    #[error("this invitation has expired; ask for a new one")]
    Expired,
    #[error("the password must have at least {} characters", Password::MIN_CHARS)]
    Password(FieldProblem),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Who an invitation is for, before it is accepted.
pub async fn invitation_for(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<String, AcceptError> {
    let found = live_invitation(db, token, now).await?;
    Ok(found.email)
}

async fn live_invitation(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<invitation::Model, AcceptError> {
    let token = Token::parse(token).map_err(|_| AcceptError::Unknown)?;
    let found = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token.hash().as_str()))
        .one(db)
        .await?
        .filter(|i| i.accepted_at.is_none())
        .ok_or(AcceptError::Unknown)?;
    if found.expires_at <= now {
        return Err(AcceptError::Expired);
    }
    Ok(found)
}

/// What accepting an invitation did.
#[derive(Debug)]
pub enum Accepted {
    /// A new account, signed in up to its second factor.
    NewAccount(SignedIn),
    /// The address had an account: it holds the role now, and its owner signs in as
    /// ever. The link opens no session for it (it does not prove the password).
    RoleAdded,
}

/// Accepts an invitation: the account is made with `password` (or, if the address has
/// one already, given the role and its password left alone) and the link is spent.
pub async fn accept_invitation(
    db: &DatabaseConnection,
    token: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Accepted, AcceptError> {
    let found = live_invitation(db, token, now).await?;
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(found.email.as_str()))
        .one(db)
        .await?;
    // An account whose password an admin reset takes a new one from the link, as a new
    // account does; any other existing account keeps its own.
    let reset = existing
        .as_ref()
        .is_some_and(|u| u.password_hash == PASSWORD_RESET);
    let hash = match existing {
        Some(_) if !reset => None,
        _ => {
            let password = Password::parse(password).map_err(AcceptError::Password)?;
            Some(hash_password(&password).await?)
        }
    };
    let grant = Grant::from_columns(
        &found.role,
        found.campaign_id,
        found.union_id,
        found.local_id,
    )
    .ok_or(AcceptError::Unknown)?;
    let txn = db::begin_write(db).await?;
    // Spent in the same transaction, and only if still unspent: one account per link.
    let spent = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(found.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(AcceptError::Unknown);
    }
    let (user_id, is_new) = match (existing_user(&txn, &found.email).await?, hash) {
        (Some(account), Some(hash)) if account.password_hash == PASSWORD_RESET => {
            user::Entity::update_many()
                .col_expr(user::Column::PasswordHash, Expr::value(hash))
                .col_expr(user::Column::FailedSignIns, Expr::value(0))
                .filter(user::Column::Id.eq(account.id))
                .filter(user::Column::PasswordHash.eq(PASSWORD_RESET))
                .exec(&txn)
                .await?;
            let next = if account.totp_enabled_at.is_some() {
                SecondStep::Code
            } else {
                SecondStep::Enrol
            };
            audit_entry(
                &txn,
                &format!("user:{}", account.id),
                "user.password_set_after_reset",
                json!({"invitation": found.id}),
                now,
            )
            .await?;
            // The grant it came with is one the account holds already.
            let token = open_session(&txn, account.id, false, now).await?;
            txn.commit().await?;
            return Ok(Accepted::NewAccount(SignedIn { token, next }));
        }
        (Some(account), _) => (account.id, false),
        (None, Some(hash)) => {
            let email = AccountEmail::parse(&found.email).map_err(|_| AcceptError::Unknown)?;
            let done = user::Entity::insert(new_user(&email, hash, now))
                .exec(&txn)
                .await?;
            (done.last_insert_id, true)
        }
        (None, None) => return Err(AcceptError::Unknown),
    };
    insert_grant(&txn, user_id, grant, &found.invited_by, now).await?;
    audit_entry(
        &txn,
        &format!("user:{user_id}"),
        "user.accept_invitation",
        json!({"invitation": found.id, "grant": grant}),
        now,
    )
    .await?;
    if !is_new {
        txn.commit().await?;
        return Ok(Accepted::RoleAdded);
    }
    let token = open_session(&txn, user_id, false, now).await?;
    txn.commit().await?;
    Ok(Accepted::NewAccount(SignedIn {
        token,
        next: SecondStep::Enrol,
    }))
}

async fn existing_user(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

/// Gives an existing account another grant (an admin's act, audited).
pub async fn grant(
    db: &DatabaseConnection,
    user_id: i64,
    grant: Grant,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = db::begin_write(db).await?;
    insert_grant(&txn, user_id, grant, by, now).await?;
    audit_entry(
        &txn,
        by,
        "user.grant",
        json!({"user": user_id, "grant": grant}),
        now,
    )
    .await?;
    txn.commit().await
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is not right")]
    Wrong,
    #[error("the password must have at least {} characters", Password::MIN_CHARS)]
    Weak(FieldProblem),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A person changes their own password, giving the current one (counted like a sign-in
/// attempt, so a stolen session cannot guess it). Every session of theirs ends, this one
/// too; audited.
pub async fn change_password(
    db: &DatabaseConnection,
    user_id: i64,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<(), PasswordChangeError> {
    let new = Password::parse(new).map_err(PasswordChangeError::Weak)?;
    let account = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(PasswordChangeError::Wrong)?;
    if !count_password_attempt(db, account.id, now).await? {
        password_matches(decoy_hash().await.to_owned(), current.to_owned()).await;
        return Err(PasswordChangeError::Wrong);
    }
    if !password_matches(account.password_hash.clone(), current.to_owned()).await {
        return Err(PasswordChangeError::Wrong);
    }
    let hash = hash_password(&new).await?;
    let txn = db::begin_write(db).await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::FailedSignIns, Expr::value(0))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    let sessions = sign_out_everywhere(&txn, account.id).await?;
    audit_entry(
        &txn,
        &format!("user:{}", account.id),
        "user.password_change",
        json!({"user": account.id, "sessions_ended": sessions}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
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
