use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "locals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub union_id: i64,
    /// The local's number or name as members know it ("Local 102").
    pub name: String,
    pub slug: String,
    pub city: Option<String>,
    pub region: Option<String>,
    pub member_count: Option<i64>,
    pub member_count_as_of: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
