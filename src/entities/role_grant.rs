use sea_orm::entity::prelude::*;

/// One role a user holds, and over what: `admin` (everything), `organizer` of a campaign
/// (`campaign_id`) or of a union (`union_id`), `officer` of a local (`local_id`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_grants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub role: String,
    pub campaign_id: Option<i64>,
    pub union_id: Option<i64>,
    pub local_id: Option<i64>,
    pub granted_by: String,
    pub granted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
