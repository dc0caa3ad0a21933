use sea_orm::entity::prelude::*;

use crate::domain::AnnouncementKind;

/// What pledgers are told when a local or the campaign reaches its threshold, or when the
/// deadline passes unmet. Sent once released, in batches that move `cursor` forward in
/// the same transaction as their mail, so a restart neither repeats nor skips anyone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "announcements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    /// None for the whole campaign.
    pub local_id: Option<i64>,
    /// `campaign` or `local:ID`.
    pub scope_key: String,
    pub kind: AnnouncementKind,
    pub message: String,
    pub created_at: DateTimeUtc,
    pub released_at: Option<DateTimeUtc>,
    pub released_by: Option<String>,
    pub cursor: Option<Uuid>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
