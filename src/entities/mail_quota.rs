use sea_orm::entity::prelude::*;

/// Mails to one mailbox (its canonical address hashed) in one hour.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_quota")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mailbox_hash: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_start: DateTimeUtc,
    pub count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
