//! Passwords: hashed with Argon2id (a few at a time, so a flood of sign-ins cannot take the
//! memory), new accounts and their grants, and changing one's own password.

use super::*;

/// Permits to run an Argon2 hash: a burst of sign-ins waits its turn here rather than
/// taking 19 MiB each at once. min(cores × 2, budget / m_cost), at least one.
pub(super) fn hashing_permits() -> &'static tokio::sync::Semaphore {
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

pub(super) fn hash_failed(err: HashError) -> DbErr {
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

pub(super) fn new_user(
    email: &AccountEmail,
    password_hash: String,
    now: DateTime<Utc>,
) -> user::ActiveModel {
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

pub(super) async fn insert_grant(
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
