use super::*;

fn directory() -> Directory {
    let union = |slug: &str| UnionView {
        id: 0,
        slug: slug.into(),
        name: slug.to_uppercase(),
        short_name: slug.to_uppercase(),
    };
    let local = |id: i64, union: &str| LocalView {
        id,
        union: union.into(),
        union_short_name: union.to_uppercase(),
        name: format!("Local {id}"),
        city: None,
        region: None,
        member_count: Some(100),
    };
    Directory {
        unions: vec![union("a"), union("b")],
        locals: [local(1, "a"), local(2, "a"), local(3, "b")]
            .into_iter()
            .map(|l| (l.id, l))
            .collect(),
        standing: BTreeMap::new(),
    }
}

fn counts(by_local: &[(i64, u64)], supporters: u64) -> Counts {
    Counts {
        by_local: by_local.iter().copied().collect(),
        community_supporters: supporters,
    }
}

fn rule(breakdown: PublicBreakdown, smallest_group: u64) -> Publication {
    Publication {
        breakdown,
        smallest_group,
        goal: Some(1000),
        state: None,
        reached_at: None,
        breakdown_every: chrono::Duration::minutes(5),
    }
}

#[test]
fn small_locals_are_folded_into_other() {
    let counts = counts(&[(1, 7), (2, 2), (3, 5), (99, 9)], 3);
    let tally = publish(
        &counts,
        &directory(),
        rule(PublicBreakdown::ByLocal, 5),
        "t".into(),
    );
    assert_eq!(tally.total, 26);
    let shown: Vec<_> = tally
        .by_local
        .iter()
        .map(|c| (c.local_id, c.count))
        .collect();
    assert_eq!(
        shown,
        [(1, 7), (3, 5)],
        "local 2 has too few; 99 no longer signs"
    );
    assert_eq!(tally.other, 11);
    assert_eq!(tally.community_supporters, 3);
    assert!(
        tally.by_union.is_empty(),
        "by union would show what by local folds"
    );
    assert_eq!(tally.by_local[0].label, "A Local 1");
}

#[test]
fn unions_are_summed_and_folded_the_same_way() {
    let counts = counts(&[(1, 3), (2, 3), (3, 4)], 0);
    let tally = publish(
        &counts,
        &directory(),
        rule(PublicBreakdown::ByUnion, 5),
        "t".into(),
    );
    let shown: Vec<_> = tally
        .by_union
        .iter()
        .map(|c| (c.union.as_str(), c.count))
        .collect();
    assert_eq!(shown, [("a", 6)]);
    assert_eq!(tally.other, 4);
    assert!(tally.by_local.is_empty());
}

#[test]
fn total_only_shows_the_total_and_nothing_else() {
    let counts = counts(&[(1, 30), (3, 40)], 8);
    let tally = publish(
        &counts,
        &directory(),
        rule(PublicBreakdown::TotalOnly, 1),
        "t".into(),
    );
    assert_eq!(tally.total, 78);
    assert_eq!((tally.other, tally.community_supporters), (0, 0));
    assert!(tally.by_local.is_empty() && tally.by_union.is_empty());
}

#[test]
fn counts_move_and_empty_locals_disappear() {
    let mut counts = counts(&[(1, 1)], 0);
    counts.apply(Some(2), 1);
    counts.apply(Some(1), -1);
    counts.apply(None, 1);
    assert_eq!(counts.by_local.into_iter().collect::<Vec<_>>(), [(2, 1)]);
    assert_eq!(counts.community_supporters, 1);
}

/// 12:00:00 UTC on a day, plus `seconds`: the clock the cadence tests move by hand.
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_385_600 + seconds, 0).unwrap()
}

#[test]
fn between_ticks_only_the_total_moves() {
    let directory = directory();
    let rule = rule(PublicBreakdown::ByLocal, 5);
    let mut cadenced = Cadenced::default();
    let mut counts = counts(&[(1, 7), (3, 5)], 2);
    let first = cadenced.publish(&counts, &directory, rule, at(0));
    counts.apply(Some(3), 1);
    counts.apply(None, 1);
    let moved = cadenced.publish(&counts, &directory, rule, at(299));
    assert_eq!(moved.total, first.total + 2, "the total is live");
    assert_eq!(
        (
            moved.by_local.clone(),
            moved.other,
            moved.community_supporters
        ),
        (
            first.by_local.clone(),
            first.other,
            first.community_supporters
        ),
        "the groups wait for the next tick"
    );
    let ticked = cadenced.publish(&counts, &directory, rule, at(300));
    assert_eq!(ticked.by_local[1].count, 6);
    assert_eq!(ticked.community_supporters, 3);
}

#[test]
fn every_process_ticks_at_the_same_moments() {
    let directory = directory();
    let rule = rule(PublicBreakdown::ByLocal, 1);
    let (mut early, mut late) = (Cadenced::default(), Cadenced::default());
    let mut counts = counts(&[(1, 7)], 0);
    early.publish(&counts, &directory, rule, at(10));
    counts.apply(Some(1), 1);
    // A second process first asked later in the same period, after the change.
    late.publish(&counts, &directory, rule, at(200));
    assert_eq!(
        early.publish(&counts, &directory, rule, at(301)).by_local,
        late.publish(&counts, &directory, rule, at(302)).by_local,
        "and from the next tick on both show the same"
    );
}

#[test]
fn a_group_folded_back_needs_a_margin_more_to_show_again() {
    let directory = directory();
    let rule = rule(PublicBreakdown::ByLocal, 5);
    let mut cadenced = Cadenced::default();
    let shown = |tally: &Tally| {
        tally
            .by_local
            .iter()
            .map(|c| c.local_id)
            .collect::<Vec<_>>()
    };
    let mut counts = counts(&[(1, 5)], 0);
    assert_eq!(
        shown(&cadenced.publish(&counts, &directory, rule, at(0))),
        [1]
    );
    counts.apply(Some(1), -1);
    assert!(
        shown(&cadenced.publish(&counts, &directory, rule, at(300))).is_empty(),
        "never shown under the smallest group"
    );
    counts.apply(Some(1), 1);
    let back = cadenced.publish(&counts, &directory, rule, at(600));
    assert!(
        shown(&back).is_empty(),
        "one signature back does not flip it into view"
    );
    assert_eq!(back.other, 5);
    counts.apply(Some(1), 1);
    assert_eq!(
        shown(&cadenced.publish(&counts, &directory, rule, at(900))),
        [1],
        "one more does"
    );
}

#[test]
fn a_stricter_view_takes_effect_at_once() {
    let directory = directory();
    let mut cadenced = Cadenced::default();
    let counts = counts(&[(1, 7), (3, 5)], 0);
    cadenced.publish(
        &counts,
        &directory,
        rule(PublicBreakdown::ByLocal, 5),
        at(0),
    );
    let stricter = cadenced.publish(
        &counts,
        &directory,
        rule(PublicBreakdown::ByLocal, 6),
        at(1),
    );
    assert_eq!(stricter.by_local.len(), 1);
    assert_eq!(stricter.other, 5);
    let total_only = cadenced.publish(
        &counts,
        &directory,
        rule(PublicBreakdown::TotalOnly, 6),
        at(2),
    );
    assert!(total_only.by_local.is_empty() && total_only.other == 0);
}
