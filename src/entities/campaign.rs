use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    /// `petition` or `pledge`.
    pub kind: String,
    pub addressee: String,
    /// `draft`, `open`, `closed` or `archived`.
    pub status: String,
    pub goal: Option<i64>,
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    /// `total_only`, `by_union` or `by_local`.
    pub public_breakdown: String,
    /// Locals with fewer signers than this are folded into "other" for the public.
    pub smallest_group: i32,
    pub allow_community: bool,
    pub default_language: String,
    pub is_demo: bool,
    pub created_at: DateTimeUtc,
    /// Days an archived campaign keeps its signers' details before they are purged.
    pub retention_days: i32,
    pub archived_at: Option<DateTimeUtc>,
    /// When the signers' details were purged; the counts stay.
    pub purged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
