use sea_orm::entity::prelude::*;

/// A single-use link an admin sent, granting a role to whoever sets a password from it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub email: String,
    pub role: String,
    pub campaign_id: Option<i64>,
    pub union_id: Option<i64>,
    pub local_id: Option<i64>,
    pub invited_by: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
