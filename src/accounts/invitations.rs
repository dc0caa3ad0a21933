//! Invitations: single-use links that bring a person into a role, and grants.

use super::*;

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
    caller: &crate::accounts::access::Caller,
    Invitation {
        email,
        grant,
        language,
    }: Invitation<'_>,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<Effects, InviteError> {
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
    Ok(Effects::none().mail())
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

pub(super) async fn live_invitation(
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

pub(super) async fn existing_user(
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
