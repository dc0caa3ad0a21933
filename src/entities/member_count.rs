use sea_orm::entity::prelude::*;

/// The history of a local's member count: every value it has had and when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_counts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub local_id: i64,
    pub member_count: i64,
    pub as_of: Date,
    pub recorded_at: DateTimeUtc,
    /// Who set it: an officer, an admin, or an import.
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
