//! The sentences pages build from counts: signed, share, a pledge's rule and standing.

use super::*;

/// "312 of 1,840" (or just "312" when the member count is unknown).
pub fn signed_text(count: u64, members: Option<u64>, language: Language) -> String {
    let count = format_count(count, language);
    match members {
        Some(members) => {
            let members = format_count(members, language);
            td_string!(language.locale(), tally.of, count, members).to_string()
        }
        None => count,
    }
}

/// "17%", or a dash when the member count is unknown.
pub fn share_text(count: u64, members: Option<u64>) -> String {
    share_of_membership(count, members)
        .map(format_share_percent)
        .unwrap_or_else(|| "–".to_owned())
}

/// A local's standing in a pledge: "Reached", "12 of 18 needed", "Not reached" once the
/// pledge has ended, or a dash when it cannot reach (no member count).
pub fn pledge_text(
    count: u64,
    needed: Option<u64>,
    reached: bool,
    withdrawn_since: u64,
    ended: bool,
    language: Language,
) -> String {
    let locale = language.locale();
    let mut text = match (reached, needed) {
        (true, _) => td_string!(locale, pledge.reached).to_owned(),
        (false, _) if ended => td_string!(locale, pledge.not_reached).to_owned(),
        (false, Some(needed)) => {
            let count = format_count(count, language);
            let needed = format_count(needed, language);
            td_string!(locale, pledge.needed, count, needed).to_string()
        }
        (false, None) => "–".to_owned(),
    };
    if reached && withdrawn_since > 0 {
        text.push_str(&withdrew_since_text(withdrawn_since, language));
    }
    text
}

/// " (2 withdrew since)", after a threshold reached.
pub fn withdrew_since_text(n: u64, language: Language) -> String {
    let count = format_count(n, language);
    crate::td_count!(
        language,
        n,
        pledge.withdrew_since_single | withdrew_since,
        n = count
    )
}

/// Where a whole pledge stands, in a sentence.
pub fn state_text(state: PledgeState, language: Language) -> &'static str {
    let locale = language.locale();
    match state {
        PledgeState::Gathering => td_string!(locale, pledge.gathering_state),
        PledgeState::Reached => td_string!(locale, pledge.reached_state),
        PledgeState::NotReached => td_string!(locale, pledge.not_reached_state),
    }
}

/// A pledge's rule in words: "Binds once 60% of its members in each of at least 3
/// locals have pledged."
pub fn rule_text(rule: &PledgeRule, language: Language) -> String {
    let locale = language.locale();
    let mut per_local = Vec::new();
    if let Some(share) = rule.share_label() {
        per_local.push(td_string!(locale, pledge.share_of_members, share).to_string());
    }
    if let Some(n) = rule.per_local_needed {
        let n = format_count(n, language);
        per_local.push(td_string!(locale, pledge.number_of_members, n).to_string());
    }
    let mut parts = Vec::new();
    if !per_local.is_empty() {
        let locals = match rule.locals_needed {
            Some(1) | None => td_string!(locale, pledge.a_local).to_owned(),
            Some(n) => td_string!(locale, pledge.each_of, n).to_string(),
        };
        let who = per_local.join(td_string!(locale, pledge.and));
        parts.push(td_string!(locale, pledge.in_locals, who, locals).to_string());
    }
    if let Some(n) = rule.total_needed {
        let n = format_count(n, language);
        parts.push(td_string!(locale, pledge.in_all, n).to_string());
    }
    let parts = parts.join(td_string!(locale, pledge.also));
    let mut text = td_string!(locale, pledge.binds, parts).to_string();
    if rule.verified_only {
        text.push_str(td_string!(locale, pledge.verified_only));
    }
    if rule.share_needed_bp.is_some() {
        text.push_str(match rule.without_member_count {
            WithoutMemberCount::CountOnly if rule.per_local_needed.is_some() => {
                td_string!(locale, pledge.count_only)
            }
            _ => td_string!(locale, pledge.not_eligible),
        });
    }
    text
}

/// `text` as a URL's query wants it: everything but RFC 3986's unreserved characters
/// percent-encoded.
pub fn query_encode(text: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const UNRESERVED_KEPT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(text, UNRESERVED_KEPT).to_string()
}

/// How far toward the goal, in percent (capped at 100).
pub fn goal_percent(total: u64, goal: Option<u64>) -> Option<f64> {
    goal.filter(|goal| *goal > 0)
        .map(|goal| (total as f64 / goal as f64 * 100.0).min(100.0))
}
