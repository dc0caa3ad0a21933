use sea_orm::entity::prelude::*;

use crate::domain::CollisionResolution;

/// A paper line whose address had already signed the campaign: counted like any line
/// until one of the campaign's organizers keeps or removes it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paper_collisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub signature_id: Uuid,
    pub earlier_id: Uuid,
    pub entered_by: String,
    pub entered_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<String>,
    pub resolution: Option<CollisionResolution>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
