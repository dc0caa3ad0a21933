//! What a campaign is, where it and its signatures stand, how much of its tally is
//! public, and how a tally reads as a share of the membership.

use serde::{Deserialize, Serialize};

/// A closed set of states stored and sent as snake_case words: the same word in a
/// database column (a sea-orm value type on the server), in JSON and in a form.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident default $default:ident { $($body:tt)* }) => {
        word_enum! { $(#[$meta])* $name { $($body)* } }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }
    };
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
        #[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub fn parse(word: &str) -> Option<Self> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::campaign::UnknownWord;

            fn from_str(word: &str) -> Result<Self, Self::Err> {
                Self::parse(word).ok_or_else(|| $crate::domain::campaign::UnknownWord {
                    of: stringify!($name),
                    word: word.to_owned(),
                })
            }
        }
    };
}
pub(crate) use word_enum;

/// A stored or sent word that names none of a set's states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{word:?} is not a {of}")]
pub struct UnknownWord {
    pub of: &'static str,
    pub word: String,
}

word_enum! {
    /// A petition asks for something; a pledge commits its signers to act, such as to strike.
    /// A new campaign is a petition until its organizer says otherwise.
    CampaignKind default Petition { Petition => "petition", Pledge => "pledge" }
}

word_enum! {
    /// Only an open campaign takes signatures; a closed one still shows its tally. A new
    /// campaign starts in draft.
    CampaignStatus default Draft { Draft => "draft", Open => "open", Closed => "closed", Archived => "archived" }
}

word_enum! {
    /// Only confirmed signatures count in the tally.
    SignatureStatus {
        Pending => "pending",
        Confirmed => "confirmed",
        Invalidated => "invalidated",
        Withdrawn => "withdrawn",
    }
}

word_enum! {
    /// How finely the public page breaks down the tally; by local unless said otherwise.
    PublicBreakdown default ByLocal { TotalOnly => "total_only", ByUnion => "by_union", ByLocal => "by_local" }
}

/// The fraction of a membership that signed, when the membership is known.
pub fn share_of_membership(count: u64, member_count: Option<u64>) -> Option<f64> {
    member_count
        .filter(|&members| members > 0)
        .map(|members| count as f64 / members as f64)
}

/// A share as a whole percentage; never rounds a few signers down to "0%" nor almost
/// everyone up to "100%".
pub fn format_share_percent(share: f64) -> String {
    let percent = share * 100.0;
    if percent > 0.0 && percent < 1.0 {
        "<1%".to_owned()
    } else if percent > 99.0 && percent < 100.0 {
        ">99%".to_owned()
    } else {
        format!("{percent:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_state_reads_back_from_its_word() {
        fn round_trips<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &value in all {
                assert_eq!(parse(as_str(value)), Some(value));
            }
        }
        round_trips(CampaignKind::ALL, CampaignKind::as_str, CampaignKind::parse);
        round_trips(
            CampaignStatus::ALL,
            CampaignStatus::as_str,
            CampaignStatus::parse,
        );
        round_trips(
            SignatureStatus::ALL,
            SignatureStatus::as_str,
            SignatureStatus::parse,
        );
        round_trips(
            PublicBreakdown::ALL,
            PublicBreakdown::as_str,
            PublicBreakdown::parse,
        );
    }

    #[test]
    fn states_are_written_in_snake_case_and_unknown_words_are_refused() {
        assert_eq!(PublicBreakdown::TotalOnly.as_str(), "total_only");
        assert_eq!(SignatureStatus::Withdrawn.to_string(), "withdrawn");
        assert_eq!(CampaignStatus::parse("Open"), None);
        assert_eq!(CampaignKind::parse(""), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn states_serialise_as_the_same_words() {
        assert_eq!(
            serde_json::to_string(&PublicBreakdown::ByLocal).unwrap(),
            r#""by_local""#
        );
        assert_eq!(
            serde_json::from_str::<CampaignKind>(r#""pledge""#).unwrap(),
            CampaignKind::Pledge
        );
    }

    #[test]
    fn a_share_needs_a_known_nonzero_membership() {
        assert_eq!(share_of_membership(17, Some(100)), Some(0.17));
        assert_eq!(share_of_membership(5, None), None);
        assert_eq!(share_of_membership(5, Some(0)), None);
    }

    #[test]
    fn shares_read_as_whole_percentages() {
        assert_eq!(format_share_percent(0.17), "17%");
        assert_eq!(format_share_percent(0.0), "0%");
        assert_eq!(format_share_percent(0.004), "<1%");
        assert_eq!(format_share_percent(0.016), "2%");
        assert_eq!(format_share_percent(0.996), ">99%");
        assert_eq!(format_share_percent(1.0), "100%");
        assert_eq!(format_share_percent(1.3), "130%");
    }

    proptest! {
        #[test]
        fn a_share_is_never_shown_as_zero_unless_nobody_signed(
            count in 0u64..1_000_000,
            members in 1u64..10_000_000,
        ) {
            let shown = format_share_percent(share_of_membership(count, Some(members)).unwrap());
            prop_assert_eq!(shown == "0%", count == 0);
            if count < members {
                prop_assert_ne!(shown, "100%");
            }
        }
    }
}
