//! What must happen after a use case's transaction commits: tallies moved or reread,
//! the mail and pledge workers woken, other processes told. A use case returns its
//! [`Effects`]; [`Bells::apply`] (a serving process) or [`Effects::announce`] (the
//! command line) carries them out. No caller decides them by hand.

use std::{collections::BTreeSet, sync::Arc};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use crate::{
    domain::{CampaignId, LocalId},
    live::hub::{self, TallyHub},
};

/// One tally move: a confirmation (+1), a withdrawal or invalidation (-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub campaign: CampaignId,
    pub local: Option<LocalId>,
    pub delta: i64,
}

/// What a committed change asks of the running processes.
#[must_use = "a change's effects are applied once its transaction commits"]
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Effects {
    pub moves: Vec<Move>,
    /// Campaigns changed outside the tally (settings, sponsors, a pledge's standing):
    /// reread here and in every other process.
    pub reread: BTreeSet<CampaignId>,
    /// Mail was written to the outbox.
    pub mail: bool,
    /// A pledge's counts or rule may have moved: the pledge worker judges again.
    pub pledges: bool,
}

impl Effects {
    pub fn none() -> Self {
        Self::default()
    }

    /// Counts moved by `delta` in a campaign (and a local).
    pub fn moved(mut self, campaign: CampaignId, local: Option<LocalId>, delta: i64) -> Self {
        if delta != 0 {
            self.moves.push(Move {
                campaign,
                local,
                delta,
            });
        }
        self
    }

    /// A campaign changed outside its counts.
    pub fn reread(mut self, campaign: CampaignId) -> Self {
        self.reread.insert(campaign);
        self
    }

    /// Mail waits in the outbox.
    pub fn mail(mut self) -> Self {
        self.mail = true;
        self
    }

    /// The pledge worker should judge again.
    pub fn judge_pledges(mut self) -> Self {
        self.pledges = true;
        self
    }

    /// Both sets of effects.
    pub fn and(mut self, other: Effects) -> Self {
        self.moves.extend(other.moves);
        self.reread.extend(other.reread);
        self.mail |= other.mail;
        self.pledges |= other.pledges;
        self
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Tells the serving processes, from a process that serves nothing (the command
    /// line): each campaign moved or changed is reread wherever it is live. Mail and
    /// pledges wait for the workers' own rounds.
    pub async fn announce(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let campaigns: BTreeSet<CampaignId> = self
            .moves
            .iter()
            .map(|m| m.campaign)
            .chain(self.reread)
            .collect();
        for campaign in campaigns {
            hub::announce_change(db, campaign.0).await?;
        }
        Ok(())
    }
}

impl FromIterator<Effects> for Effects {
    fn from_iter<I: IntoIterator<Item = Effects>>(iter: I) -> Self {
        iter.into_iter().fold(Self::none(), Effects::and)
    }
}

/// The hub and the workers' bells of a serving process.
#[derive(Clone)]
pub struct Bells {
    pub hub: Arc<TallyHub>,
    pub mail: Arc<Notify>,
    pub pledges: Arc<Notify>,
}

impl Bells {
    /// Carries out a committed change's effects: moves first, then rereads (here and,
    /// through the hub, in the other processes), then the workers' bells.
    pub fn apply(&self, effects: Effects) {
        for step in &effects.moves {
            self.hub.record(step.campaign, step.local, step.delta);
        }
        for campaign in &effects.reread {
            self.hub.refresh(*campaign);
        }
        if effects.mail {
            self.mail.notify_one();
        }
        if effects.pledges {
            self.pledges.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_add_up_and_nothing_moved_is_nothing() {
        let a = Effects::none().moved(CampaignId(1), Some(LocalId(2)), 1);
        let b = Effects::none().mail().reread(CampaignId(3));
        let both = a.clone().and(b);
        assert_eq!(both.moves, a.moves);
        assert!(both.mail && !both.pledges);
        assert_eq!(both.reread, BTreeSet::from([CampaignId(3)]));
        assert!(Effects::none().moved(CampaignId(1), None, 0).is_empty());
        let summed: Effects = [Effects::none().mail(), Effects::none().judge_pledges()]
            .into_iter()
            .collect();
        assert!(summed.mail && summed.pledges && summed.moves.is_empty());
    }
}
