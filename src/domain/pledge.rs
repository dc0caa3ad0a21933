//! When a strike pledge binds: a threshold rule over each local's pledges (a share of its
//! frozen member count, a number of signers, or both) and over the campaign (signers in
//! all, or a number of locals each past their threshold), and the state that follows.

use serde::{Deserialize, Serialize};

use super::campaign::word_enum;

word_enum! {
    /// How a pledge judges a local whose member count is unknown.
    WithoutMemberCount default CountOnly { CountOnly => "count_only", NotEligible => "not_eligible" }
}

word_enum! {
    /// An officer's verdict on whether a pledger is a member of their local, as stored
    /// (no verdict yet: none).
    Verification { Verified => "verified", NotMember => "not_member" }
}

word_enum! {
    /// What becomes of a paper line whose address had signed before: kept, removed, or
    /// removed by an organizer and leaving the counts at the campaign's next tick.
    CollisionResolution { Kept => "kept", Removing => "removing", Removed => "removed" }
}

word_enum! {
    /// What an announcement to pledgers says: a threshold reached, or a deadline unmet.
    AnnouncementKind { Reached => "reached", Unmet => "unmet" }
}

word_enum! {
    /// Where a pledge (or one of its locals) stands: it gathers until its rule is met,
    /// and one that has not when the deadline's grace runs out ends as not reached.
    PledgeState { Gathering => "gathering", Reached => "reached", NotReached => "not_reached" }
}

/// A pledge campaign's threshold rule. Every condition that is set must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeRule {
    /// The share of a local's members who must pledge, in hundredths of a percent.
    pub share_needed_bp: Option<u32>,
    /// Pledges needed in each local.
    pub per_local_needed: Option<u64>,
    /// Pledges needed in all.
    pub total_needed: Option<u64>,
    /// Locals that must each reach their threshold.
    pub locals_needed: Option<u32>,
    /// Count only pledges the local's officers verified as members.
    pub verified_only: bool,
    pub without_member_count: WithoutMemberCount,
}

/// Why a rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleProblem {
    #[error("the share of members must be more than 0% and at most 100%")]
    Share,
    #[error("a number of signers must be 1 or more")]
    Zero,
    #[error(
        "a rule by locals needs each local's threshold: a share of members or a number of signers per local"
    )]
    LocalsWithoutThreshold,
    #[error(
        "a threshold per local needs a campaign rule too: signers in all, or a number of locals"
    )]
    NoCampaignRule,
}

impl PledgeRule {
    /// Whether the rule says anything at all: a pledge without one never "reaches".
    pub fn is_set(&self) -> bool {
        self.total_needed.is_some() || self.locals_needed.is_some()
    }

    /// Whether each local has a threshold of its own.
    pub fn judges_locals(&self) -> bool {
        self.share_needed_bp.is_some() || self.per_local_needed.is_some()
    }

    pub fn check(&self) -> Result<(), RuleProblem> {
        if self
            .share_needed_bp
            .is_some_and(|bp| bp == 0 || bp > 10_000)
        {
            return Err(RuleProblem::Share);
        }
        let numbers = [
            self.per_local_needed,
            self.total_needed,
            self.locals_needed.map(u64::from),
        ];
        if numbers.contains(&Some(0)) {
            return Err(RuleProblem::Zero);
        }
        if self.locals_needed.is_some() && !self.judges_locals() {
            return Err(RuleProblem::LocalsWithoutThreshold);
        }
        if self.judges_locals() && !self.is_set() {
            return Err(RuleProblem::NoCampaignRule);
        }
        Ok(())
    }

    /// How many pledges a local with `member_count` members needs, or None when it cannot
    /// reach a threshold (no rule per local, or no member count and the rule says such a
    /// local is not eligible, or judges it by a count it does not have).
    pub fn local_needs(&self, member_count: Option<u64>) -> Option<u64> {
        if !self.judges_locals() {
            return None;
        }
        let by_share = match (self.share_needed_bp, member_count) {
            (None, _) => None,
            (Some(bp), Some(members)) => Some((members * u64::from(bp)).div_ceil(10_000).max(1)),
            (Some(_), None) => match self.without_member_count {
                WithoutMemberCount::NotEligible => return None,
                WithoutMemberCount::CountOnly => {
                    // Judged on the number of signers alone, if the rule has one.
                    self.per_local_needed?;
                    None
                }
            },
        };
        by_share.max(self.per_local_needed)
    }

    /// Whether a local with `counted` pledges (verified ones, if the rule says so) and
    /// `member_count` members has reached its threshold.
    pub fn local_met(&self, counted: u64, member_count: Option<u64>) -> bool {
        self.local_needs(member_count)
            .is_some_and(|needed| counted >= needed)
    }

    /// Locals that must reach their threshold: as stated, or one when the rule has a
    /// threshold per local and says no number (every condition set must hold).
    pub fn locals_required(&self) -> Option<u32> {
        self.locals_needed
            .or_else(|| self.judges_locals().then_some(1))
    }

    /// Whether the campaign's rule holds with `total` pledges counted and
    /// `locals_reached` locals past their threshold.
    pub fn campaign_met(&self, total: u64, locals_reached: u64) -> bool {
        self.is_set()
            && self.total_needed.is_none_or(|needed| total >= needed)
            && self
                .locals_required()
                .is_none_or(|needed| locals_reached >= u64::from(needed))
    }

    /// The share as people write it, such as "60%" or "66.67%".
    pub fn share_label(&self) -> Option<String> {
        self.share_needed_bp.map(|bp| {
            if bp % 100 == 0 {
                format!("{}%", bp / 100)
            } else {
                let decimals = format!("{:02}", bp % 100);
                format!("{}.{}%", bp / 100, decimals.trim_end_matches('0'))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(bp: u32) -> PledgeRule {
        PledgeRule {
            share_needed_bp: Some(bp),
            locals_needed: Some(1),
            ..PledgeRule::default()
        }
    }

    #[test]
    fn a_share_rounds_up_and_never_asks_for_nobody() {
        let rule = share(6_000);
        assert_eq!(rule.local_needs(Some(10)), Some(6));
        assert_eq!(rule.local_needs(Some(11)), Some(7));
        assert_eq!(rule.local_needs(Some(1)), Some(1));
        assert_eq!(share(1).local_needs(Some(3)), Some(1));
        assert!(rule.local_met(6, Some(10)));
        assert!(!rule.local_met(5, Some(10)));
    }

    #[test]
    fn share_and_count_together_need_the_larger() {
        let rule = PledgeRule {
            per_local_needed: Some(25),
            ..share(5_000)
        };
        assert_eq!(rule.local_needs(Some(10)), Some(25));
        assert_eq!(rule.local_needs(Some(100)), Some(50));
    }

    #[test]
    fn a_local_without_a_member_count_follows_the_stated_fallback() {
        let count_only = PledgeRule {
            per_local_needed: Some(20),
            ..share(6_000)
        };
        assert_eq!(count_only.local_needs(None), Some(20));
        // Count only, but no count in the rule: such a local cannot reach.
        assert_eq!(share(6_000).local_needs(None), None);
        let not_eligible = PledgeRule {
            without_member_count: WithoutMemberCount::NotEligible,
            ..count_only
        };
        assert_eq!(not_eligible.local_needs(None), None);
        assert_eq!(not_eligible.local_needs(Some(10)), Some(20));
    }

    #[test]
    fn the_campaign_needs_every_condition_it_states() {
        let rule = PledgeRule {
            total_needed: Some(100),
            locals_needed: Some(2),
            ..share(6_000)
        };
        assert!(!rule.campaign_met(99, 5));
        assert!(!rule.campaign_met(500, 1));
        assert!(rule.campaign_met(100, 2));
        assert!(!PledgeRule::default().campaign_met(1_000_000, 1_000));
        // A share per local with a total: at least one local must reach its share too.
        let with_total = PledgeRule {
            share_needed_bp: Some(6_000),
            total_needed: Some(100),
            ..PledgeRule::default()
        };
        assert!(!with_total.campaign_met(500, 0));
        assert!(with_total.campaign_met(500, 1));
    }

    #[test]
    fn rules_that_cannot_work_are_refused() {
        assert_eq!(share(0).check(), Err(RuleProblem::Share));
        assert_eq!(share(10_001).check(), Err(RuleProblem::Share));
        let no_campaign = PledgeRule {
            share_needed_bp: Some(5_000),
            ..PledgeRule::default()
        };
        assert_eq!(no_campaign.check(), Err(RuleProblem::NoCampaignRule));
        let locals_only = PledgeRule {
            locals_needed: Some(3),
            ..PledgeRule::default()
        };
        assert_eq!(
            locals_only.check(),
            Err(RuleProblem::LocalsWithoutThreshold)
        );
        assert_eq!(share(6_000).check(), Ok(()));
        assert_eq!(PledgeRule::default().check(), Ok(()));
    }

    #[test]
    fn shares_read_as_people_write_them() {
        assert_eq!(share(6_000).share_label().as_deref(), Some("60%"));
        assert_eq!(share(6_667).share_label().as_deref(), Some("66.67%"));
        assert_eq!(share(5_050).share_label().as_deref(), Some("50.5%"));
    }
}
