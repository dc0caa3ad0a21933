use sea_orm::entity::prelude::*;

/// A local that may sign a campaign. A campaign with no such rows is open to every local
/// of its sponsoring unions. For a pledge, the local's member count is frozen here when
/// the pledge opens, and `reached_at` is set once, when the local crosses its threshold.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_locals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub local_id: i64,
    /// The member count the pledge judges this local by (None: unknown).
    pub member_count: Option<i64>,
    /// When `member_count` was frozen; None while the campaign has not opened.
    pub frozen_at: Option<DateTimeUtc>,
    /// An officer's newer count, waiting for an organizer to accept it.
    pub proposed_member_count: Option<i64>,
    pub proposed_at: Option<DateTimeUtc>,
    pub proposed_by: Option<String>,
    pub reached_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
