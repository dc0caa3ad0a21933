use sea_orm::entity::prelude::*;

use crate::domain::{
    CampaignKind, CampaignStatus, PledgeRule, PledgeState, PublicBreakdown, WithoutMemberCount,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub kind: CampaignKind,
    pub addressee: String,
    pub status: CampaignStatus,
    pub goal: Option<i64>,
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    pub public_breakdown: PublicBreakdown,
    /// Locals with fewer signers than this are folded into "other" for the public.
    pub smallest_group: i32,
    /// How often the public's breakdown (groups, "other", community supporters) moves;
    /// the total moves live.
    pub breakdown_every_minutes: i32,
    pub allow_community: bool,
    pub default_language: String,
    pub is_demo: bool,
    pub created_at: DateTimeUtc,
    /// Days an archived campaign keeps its signers' details before they are purged.
    pub retention_days: i32,
    pub archived_at: Option<DateTimeUtc>,
    /// When the signers' details were purged; the counts stay.
    pub purged_at: Option<DateTimeUtc>,
    /// A pledge's threshold: the share of each local's members, in hundredths of a percent.
    pub share_needed_bp: Option<i32>,
    /// A pledge's threshold: signers needed in each local.
    pub per_local_needed: Option<i64>,
    /// A pledge's threshold: signers needed in all.
    pub total_needed: Option<i64>,
    /// A pledge's threshold: locals that must each reach theirs.
    pub locals_needed: Option<i32>,
    /// Count only pledges an officer verified as members.
    pub verified_only: bool,
    /// How a local with no member count is judged.
    pub without_member_count: WithoutMemberCount,
    /// Nobody sees who pledged in a local until it reaches its threshold.
    pub sealed_names: bool,
    /// Announce a reached threshold without waiting for an organizer.
    pub auto_release: bool,
    pub reached_message: String,
    pub unmet_message: String,
    /// When the campaign's rule was met (set once).
    pub reached_at: Option<DateTimeUtc>,
    /// When the deadline's grace ran out and the outcome was settled.
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Whether a campaign is a strike pledge (rather than a petition).
pub fn is_pledge(campaign: &Model) -> bool {
    campaign.kind == CampaignKind::Pledge
}

/// The threshold rule a campaign states (empty for a petition).
pub fn rule_of(campaign: &Model) -> PledgeRule {
    PledgeRule {
        share_needed_bp: campaign
            .share_needed_bp
            .and_then(|bp| u32::try_from(bp).ok()),
        per_local_needed: campaign
            .per_local_needed
            .map(|n| u64::try_from(n).unwrap_or(0)),
        total_needed: campaign.total_needed.map(|n| u64::try_from(n).unwrap_or(0)),
        locals_needed: campaign.locals_needed.and_then(|n| u32::try_from(n).ok()),
        verified_only: campaign.verified_only,
        without_member_count: campaign.without_member_count,
    }
}

/// Where a pledge stands; None for a petition or a pledge without a rule.
pub fn state_of(campaign: &Model) -> Option<PledgeState> {
    if !is_pledge(campaign) || !rule_of(campaign).is_set() {
        return None;
    }
    Some(if campaign.reached_at.is_some() {
        PledgeState::Reached
    } else if campaign.ended_at.is_some() {
        PledgeState::NotReached
    } else {
        PledgeState::Gathering
    })
}
