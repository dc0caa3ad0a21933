//! How much a campaign lets the public learn about who signed, and the rule that this only
//! gets stricter once the campaign has left draft: people signed (or may sign at any
//! moment) trusting what the settings said, so no later edit may show more.

use super::campaign::PublicBreakdown;

/// The settings that decide what the public, and time, can reveal about signers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacySettings {
    /// Fewer signers than this in one group are not shown apart.
    pub smallest_group: i32,
    pub public_breakdown: PublicBreakdown,
    /// Days signers' details are kept once the campaign is archived.
    pub retention_days: i32,
    /// A pledge's names stay hidden from officers until it binds.
    pub sealed_names: bool,
    /// Minutes between moves of the public breakdown.
    pub breakdown_every_minutes: i32,
}

/// One setting that changed: its key as the campaign file spells it, before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyChange {
    pub key: &'static str,
    pub before: String,
    pub after: String,
}

/// A change that would show more than before, refused; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} may only {direction} once a campaign has opened ({before} -> {after})")]
pub struct PrivacyWeakened {
    pub key: &'static str,
    pub direction: &'static str,
    pub before: String,
    pub after: String,
}

/// How finely a breakdown shows the tally: a higher rank shows less.
fn breakdown_rank(breakdown: PublicBreakdown) -> i64 {
    match breakdown {
        PublicBreakdown::ByLocal => 0,
        PublicBreakdown::ByUnion => 1,
        PublicBreakdown::TotalOnly => 2,
    }
}

/// One key compared: `strictness` grows as the setting shows less.
struct Compared {
    key: &'static str,
    direction: &'static str,
    strictness: (i64, i64),
    shown: (String, String),
}

impl Compared {
    fn new<T: ToString>(
        key: &'static str,
        direction: &'static str,
        (before, after): (T, T),
        strictness: impl Fn(&T) -> i64,
    ) -> Self {
        Compared {
            key,
            direction,
            strictness: (strictness(&before), strictness(&after)),
            shown: (before.to_string(), after.to_string()),
        }
    }
}

/// The changes from `before` to `after` of a campaign that has left draft: every one must
/// show no more than before. Returns the stricter changes (for the audit log), or the
/// first key that would show more.
pub fn only_stricter(
    before: &PrivacySettings,
    after: &PrivacySettings,
) -> Result<Vec<PrivacyChange>, PrivacyWeakened> {
    let pair = |get: fn(&PrivacySettings) -> i64| (get(before), get(after));
    // A new key is one more line: its name, the way it may move, and how it ranks.
    let keys = [
        Compared::new(
            "smallest_group",
            "grow",
            pair(|s| s.smallest_group.into()),
            |n| *n,
        ),
        Compared::new(
            "public_breakdown",
            "move toward total_only",
            (before.public_breakdown, after.public_breakdown),
            |b| breakdown_rank(*b),
        ),
        Compared::new(
            "retention_days",
            "shrink",
            pair(|s| s.retention_days.into()),
            |days| -days,
        ),
        Compared::new(
            "breakdown_every_minutes",
            "grow",
            pair(|s| s.breakdown_every_minutes.into()),
            |n| *n,
        ),
        Compared::new(
            "sealed_names",
            "be turned on",
            (before.sealed_names, after.sealed_names),
            |sealed| i64::from(*sealed),
        ),
    ];
    let mut changes = Vec::new();
    for Compared {
        key,
        direction,
        strictness: (was, now),
        shown: (before, after),
    } in keys
    {
        if now < was {
            return Err(PrivacyWeakened {
                key,
                direction,
                before,
                after,
            });
        }
        if before != after {
            changes.push(PrivacyChange { key, before, after });
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings() -> PrivacySettings {
        PrivacySettings {
            smallest_group: 5,
            public_breakdown: PublicBreakdown::ByUnion,
            retention_days: 90,
            sealed_names: false,
            breakdown_every_minutes: 5,
        }
    }

    #[test]
    fn a_lower_smallest_group_is_refused_naming_the_key() {
        let after = PrivacySettings {
            smallest_group: 1,
            ..settings()
        };
        let refused = only_stricter(&settings(), &after).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "smallest_group may only grow once a campaign has opened (5 -> 1)"
        );
    }

    #[test]
    fn a_finer_breakdown_a_longer_retention_a_shorter_cadence_and_unsealing_are_refused() {
        let weaker = [
            (
                PrivacySettings {
                    public_breakdown: PublicBreakdown::ByLocal,
                    ..settings()
                },
                "public_breakdown",
            ),
            (
                PrivacySettings {
                    retention_days: 91,
                    ..settings()
                },
                "retention_days",
            ),
            (
                PrivacySettings {
                    breakdown_every_minutes: 1,
                    ..settings()
                },
                "breakdown_every_minutes",
            ),
        ];
        for (after, key) in weaker {
            assert_eq!(only_stricter(&settings(), &after).unwrap_err().key, key);
        }
        let sealed = PrivacySettings {
            sealed_names: true,
            ..settings()
        };
        let refused = only_stricter(&sealed, &settings()).unwrap_err();
        assert_eq!(refused.key, "sealed_names");
        assert_eq!(
            only_stricter(
                &PrivacySettings {
                    public_breakdown: PublicBreakdown::TotalOnly,
                    ..settings()
                },
                &settings()
            )
            .unwrap_err()
            .to_string(),
            "public_breakdown may only move toward total_only once a campaign has opened \
             (total_only -> by_union)"
        );
    }

    #[test]
    fn stricter_changes_go_through_and_are_listed() {
        let after = PrivacySettings {
            smallest_group: 10,
            public_breakdown: PublicBreakdown::TotalOnly,
            retention_days: 30,
            sealed_names: true,
            breakdown_every_minutes: 15,
        };
        let changes = only_stricter(&settings(), &after).unwrap();
        let keys: Vec<_> = changes.iter().map(|c| c.key).collect();
        assert_eq!(
            keys,
            [
                "smallest_group",
                "public_breakdown",
                "retention_days",
                "breakdown_every_minutes",
                "sealed_names"
            ]
        );
        assert_eq!(changes[0].before, "5");
        assert_eq!(changes[0].after, "10");
        assert_eq!(only_stricter(&settings(), &settings()), Ok(vec![]));
    }

    fn any_settings() -> impl Strategy<Value = PrivacySettings> {
        (
            1..50i32,
            prop::sample::select(PublicBreakdown::ALL),
            0..3650i32,
            any::<bool>(),
            1..1440i32,
        )
            .prop_map(
                |(smallest_group, public_breakdown, retention_days, sealed_names, every)| {
                    PrivacySettings {
                        smallest_group,
                        public_breakdown,
                        retention_days,
                        sealed_names,
                        breakdown_every_minutes: every,
                    }
                },
            )
    }

    proptest! {
        /// Whatever path of accepted saves, nothing ever shows more than where it began.
        #[test]
        fn accepted_saves_never_show_more_than_the_start(
            start in any_settings(),
            steps in prop::collection::vec(any_settings(), 0..8),
        ) {
            let mut now = start;
            for step in steps {
                if only_stricter(&now, &step).is_ok() {
                    now = step;
                }
            }
            prop_assert!(now.smallest_group >= start.smallest_group);
            prop_assert!(breakdown_rank(now.public_breakdown) >= breakdown_rank(start.public_breakdown));
            prop_assert!(now.retention_days <= start.retention_days);
            prop_assert!(now.sealed_names >= start.sealed_names);
            prop_assert!(now.breakdown_every_minutes >= start.breakdown_every_minutes);
        }
    }
}
