use super::*;

#[test]
fn counts_are_written_the_way_each_language_writes_them() {
    assert_eq!(format_count(12_345, Language::En), "12,345");
    assert_eq!(format_count(12_345, Language::Es), "12.345");
    // Spanish groups only from five digits, as the browser's Intl does too.
    assert_eq!(format_count(1_840, Language::Es), "1840");
    assert_eq!(format_count(1_840, Language::En), "1,840");
    assert_eq!(signed_text(312, Some(1_840), Language::Es), "312 de 1840");
}

#[test]
fn a_count_of_one_takes_the_singular() {
    assert!(is_one(1, Language::En) && is_one(1, Language::Es));
    assert!(!is_one(0, Language::En) && !is_one(2, Language::Es));
    let total =
        |n: u64, language| crate::td_count!(language, n, tally.confirmed_single | confirmed);
    assert_eq!(total(1, Language::Es), " firma confirmada");
    assert_eq!(total(2, Language::Es), " firmas confirmadas");
    assert_eq!(total(0, Language::En), " confirmed signatures");
    assert_eq!(
        pledge_text(5, Some(5), true, 1, false, Language::Es),
        "Alcanzado (1 se retiró después)"
    );
}

#[test]
fn a_pledge_reads_in_spanish() {
    assert_eq!(
        pledge_text(3, Some(7), false, 0, false, Language::Es),
        "3 de 7 necesarios"
    );
    assert_eq!(
        pledge_text(7, Some(7), true, 2, false, Language::Es),
        "Alcanzado (2 se retiraron después)"
    );
    let rule = PledgeRule {
        share_needed_bp: Some(6000),
        locals_needed: Some(3),
        ..PledgeRule::default()
    };
    assert_eq!(
        rule_text(&rule, Language::Es),
        "Obliga cuando se hayan comprometido el 60% de sus miembros en cada uno de al menos \
         3 locales. Un local sin número de miembros no puede alcanzar el umbral."
    );
}
