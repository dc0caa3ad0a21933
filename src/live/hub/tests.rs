use super::*;

#[test]
fn the_window_grows_with_the_crowd_beyond_what_a_quarter_second_can_serve() {
    assert_eq!(window_for(0), MERGE_WINDOW);
    assert_eq!(window_for(10_000), MERGE_WINDOW);
    assert_eq!(window_for(20_000), Duration::from_millis(500));
    assert_eq!(window_for(100_000), Duration::from_millis(2_500));
}

#[test]
fn a_notification_names_its_sender_and_campaigns() {
    assert_eq!(parse_payload("ff:1,22"), Some((255, vec![1, 22])));
    assert_eq!(parse_payload("nonsense"), None);
}

#[test]
fn only_what_moved_is_sent_and_what_vanished_is_zero() {
    let count = |label: &str, count| UnionCount {
        union: label.into(),
        name: label.into(),
        count,
    };
    let old = [count("a", 5), count("b", 7)];
    let new = [count("a", 6), count("c", 5)];
    let sent = moved(
        &old,
        &new,
        |c| c.union.clone(),
        |c| UnionCount {
            count: 0,
            ..c.clone()
        },
    );
    assert_eq!(sent, [count("a", 6), count("c", 5), count("b", 0)]);
}

#[test]
fn the_page_reads_a_snapshot_as_the_same_type_the_deltas_are_written_in() {
    let tally = Tally {
        total: 12,
        goal: Some(100),
        breakdown: rollcall_breakdown(),
        smallest_group: 5,
        by_union: vec![UnionCount {
            union: "utw".into(),
            name: "United Transit Workers".into(),
            count: 12,
        }],
        by_local: Vec::new(),
        other: 0,
        community_supporters: 0,
        state: Some(crate::domain::PledgeState::Gathering),
        reached_at: None,
        breakdown_at: Some("2026-12-07T10:00:00Z".into()),
        updated_at: "2026-12-07T10:03:20Z".into(),
    };
    let snapshot = serde_json::to_vec(&Versioned {
        version: 3,
        tally: &tally,
    })
    .unwrap();
    let read: TallyEvent = serde_json::from_slice(&snapshot).unwrap();
    assert_eq!((read.version, read.total, read.other), (3, 12, Some(0)));
    assert_eq!(read.by_union, tally.by_union);
    assert_eq!(read.state, tally.state);
    let delta = TallyEvent {
        version: 4,
        total: 13,
        updated_at: "2026-12-07T10:03:21Z".into(),
        ..TallyEvent::default()
    };
    let written = serde_json::to_string(&delta).unwrap();
    assert!(
        !written.contains("other"),
        "a delta names only what moved: {written}"
    );
    assert_eq!(serde_json::from_str::<TallyEvent>(&written).unwrap(), delta);
}

fn rollcall_breakdown() -> crate::domain::PublicBreakdown {
    crate::domain::PublicBreakdown::ByUnion
}
