use sea_orm::entity::prelude::*;

use crate::domain::{SignatureStatus, Verification};

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signatures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: i64,
    /// None for a community supporter.
    pub local_id: Option<i64>,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub canonical_email: String,
    pub employer: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    /// The campaign text (and so the version) that was signed.
    pub text_id: i64,
    pub show_name: bool,
    pub status: SignatureStatus,
    pub confirm_token_hash: Option<String>,
    pub confirm_expires_at: Option<DateTimeUtc>,
    pub withdraw_token_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub invalidated_at: Option<DateTimeUtc>,
    pub ip: Option<String>,
    /// Entered from a paper sheet by this officer (as the audit log names them); such a
    /// signature is confirmed by their word, not by mail.
    pub attested_by: Option<String>,
    /// As an officer of the local judged it.
    pub verification: Option<Verification>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
}

// Signer data never reaches a log line through `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("id", &self.id)
            .field("campaign_id", &self.campaign_id)
            .field("local_id", &self.local_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::campaign::Entity",
        from = "Column::CampaignId",
        to = "super::campaign::Column::Id"
    )]
    Campaign,
    #[sea_orm(
        belongs_to = "super::campaign_text::Entity",
        from = "Column::TextId",
        to = "super::campaign_text::Column::Id"
    )]
    Text,
}

impl Related<super::campaign::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl Related<super::campaign_text::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Text.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
