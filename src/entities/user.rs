use sea_orm::entity::prelude::*;

/// Someone who signs in: an admin, organizer or officer. Never a signer.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Lower-cased.
    #[sea_orm(unique)]
    pub email: String,
    /// Argon2id, in the PHC string format.
    pub password_hash: String,
    /// Base32; set when enrolment starts, in force once `totp_enabled_at` is set.
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    pub totp_last_step: Option<i64>,
    pub failed_sign_ins: i32,
    pub last_failed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
    /// Wrong codes since `first_failed_code_at`, across sessions.
    pub failed_codes: i32,
    pub first_failed_code_at: Option<DateTimeUtc>,
    /// Set when wrong codes lock the account; `rollcall admin enable` clears it.
    pub locked_until: Option<DateTimeUtc>,
}

// Hashes and secrets never reach a log line through `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
