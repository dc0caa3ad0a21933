//! Pieces shared by pages: the tally, field messages, and the sign form's island.

use leptos::prelude::*;
use rollcall::domain::{
    Field, FieldErrors, Language, PledgeRule, PledgeState, PublicBreakdown, WithoutMemberCount,
    format_share_percent, share_of_membership,
};
use rollcall::i18n::td_string;
use rollcall::views::Tally;

/// The translation under `section.singular` or `section.plural`, as `n` calls for in
/// the reader's language, with the same arguments as `td_string!`: keys come in pairs
/// such as `confirmed_single` / `confirmed`. (Not `_one` / `_other`: leptos_i18n reads
/// those as its own plurals, which would ship ICU's plural tables in the wasm.)
#[macro_export]
macro_rules! td_count {
    ($language:expr, $n:expr, $section:ident . $one:ident | $other:ident $(, $($args:tt)*)?) => {{
        let language = $language;
        if $crate::components::is_one($n, language) {
            rollcall::i18n::td_string!(language.locale(), $section.$one $(, $($args)*)?).to_string()
        } else {
            rollcall::i18n::td_string!(language.locale(), $section.$other $(, $($args)*)?).to_string()
        }
    }};
}

#[cfg(feature = "hydrate")]
mod browser;
mod format;
mod tally;
mod text;

pub use format::*;
pub use tally::*;
pub use text::*;

#[cfg(all(test, feature = "ssr"))]
mod tests;
