use sea_orm::entity::prelude::*;

/// A sign request for an address whose signature was still pending: it waits with its own
/// link and details until one of the address's links is confirmed (`signing`).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_candidates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The pending signature this request would fill when confirmed.
    pub signature_id: Uuid,
    pub local_id: Option<i64>,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub employer: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub text_id: i64,
    pub show_name: bool,
    #[sea_orm(unique)]
    pub confirm_token_hash: String,
    pub confirm_expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub ip: Option<String>,
}

// Signer data never reaches a log line through `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignCandidate")
            .field("id", &self.id)
            .field("signature_id", &self.signature_id)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
