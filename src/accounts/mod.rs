//! Accounts of the people who run campaigns: passwords hashed with Argon2id, sign-in
//! with a per-account lockout kept in the database (so it holds across processes),
//! server-side sessions whose cookie token is stored only as a hash, a TOTP second
//! factor, and single-use invitations.

pub mod access;
pub mod partners;
pub mod recovery;
pub mod revoking;

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

use crate::audit::audit_entry;
use crate::{
    domain::{AccountEmail, FieldProblem, Grant, Language, Password, Token, TotpCode},
    entities::{invitation, role_grant, session, user},
    live::effects::Effects,
    mail,
    store::db,
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

mod invitations;
mod passwords;
mod second_factor;
mod sessions;

pub use invitations::*;
pub use passwords::*;
pub use second_factor::*;
pub use sessions::*;
