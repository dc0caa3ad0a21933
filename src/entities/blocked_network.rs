use sea_orm::entity::prelude::*;

/// An address or CIDR range from which signatures are not taken.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blocked_networks")]
pub struct Model {
    /// In CIDR form: `203.0.113.0/24`, `2001:db8::/48`, `198.51.100.7/32`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub network: String,
    pub reason: String,
    pub added_by: String,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
