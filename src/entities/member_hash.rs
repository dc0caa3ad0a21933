use sea_orm::entity::prelude::*;

/// One address from a local's member list, as a keyed hash of its canonical form: the
/// list itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_hashes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub local_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    pub uploaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
