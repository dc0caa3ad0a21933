use sea_orm::entity::prelude::*;

/// A key for programs that export: an organizer's of a campaign, or an officer's of a
/// local. Shown once when made; only its hash is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub key_hash: String,
    pub role: String,
    pub campaign_id: Option<i64>,
    pub local_id: Option<i64>,
    pub label: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// The user who made it: it works only while they hold its grant. None for a key
    /// made on the command line.
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
