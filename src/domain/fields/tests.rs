use super::*;
use proptest::prelude::*;

fn email(s: &str) -> SignerEmail {
    SignerEmail::parse(s).unwrap()
}

fn canonical(s: &str) -> String {
    email(s).canonical().as_str().to_owned()
}

#[test]
fn a_name_is_trimmed_and_its_inner_spaces_collapsed() {
    let name = SignerName::parse("  María   José \u{a0} ").unwrap();
    assert_eq!(name.as_str(), "María José");
}

#[test]
fn an_empty_or_blank_name_is_required() {
    assert_eq!(SignerName::parse(""), Err(FieldProblem::Required));
    assert_eq!(SignerName::parse(" \t\n "), Err(FieldProblem::Required));
}

#[test]
fn a_name_of_a_hundred_characters_is_accepted_and_one_more_is_too_long() {
    assert!(SignerName::parse(&"é".repeat(100)).is_ok());
    assert_eq!(
        SignerName::parse(&"é".repeat(101)),
        Err(FieldProblem::TooLong { max: 100 })
    );
}

#[test]
fn a_name_with_angle_brackets_or_control_characters_is_invalid() {
    for input in ["<script>", "Ann>", "Ann\u{7}Lee", "Ann\nLee"] {
        assert_eq!(
            SignerName::parse(input),
            Err(FieldProblem::Invalid),
            "{input:?}"
        );
    }
}

#[test]
fn names_keep_apostrophes_hyphens_and_accents() {
    let name = SignerName::parse("O'Brien-Núñez").unwrap();
    assert_eq!(name.to_string(), "O'Brien-Núñez");
}

#[cfg(feature = "ssr")]
#[test]
fn a_name_typed_with_combining_accents_is_stored_composed_on_the_server() {
    let name = SignerName::parse("Jose\u{301}").unwrap();
    assert_eq!(name.as_str(), "Jos\u{e9}");
}

#[cfg(feature = "ssr")]
#[test]
fn a_name_serialises_as_a_plain_string_and_is_checked_when_read_back() {
    let name = SignerName::parse("Ann Lee").unwrap();
    assert_eq!(serde_json::to_string(&name).unwrap(), r#""Ann Lee""#);
    assert_eq!(
        serde_json::from_str::<SignerName>(r#"" Ann  Lee ""#).unwrap(),
        name
    );
    assert!(serde_json::from_str::<SignerName>(r#""<b>""#).is_err());
}

#[test]
fn an_email_is_trimmed_and_its_domain_lower_cased_but_not_its_mailbox() {
    assert_eq!(
        email("  Ann.Lee@Example.ORG ").as_str(),
        "Ann.Lee@example.org"
    );
    assert_eq!(email("Ann.Lee@Example.ORG").domain(), "example.org");
}

#[test]
fn an_empty_email_is_required_and_a_long_one_too_long() {
    assert_eq!(SignerEmail::parse("  "), Err(FieldProblem::Required));
    let long = format!("{}@example.org", "a".repeat(250));
    assert_eq!(
        SignerEmail::parse(&long),
        Err(FieldProblem::TooLong { max: 254 })
    );
}

#[test]
fn malformed_emails_are_invalid() {
    for input in [
        "ann",
        "ann@",
        "@example.org",
        "ann@localhost",
        "ann@@example.org",
        "a@b@example.org",
        "ann lee@example.org",
        "Ann <ann@example.org>",
        "ann@[192.168.0.1]",
        "ann@example..org",
        "ann@.example.org",
    ] {
        assert_eq!(
            SignerEmail::parse(input),
            Err(FieldProblem::Invalid),
            "{input:?}"
        );
    }
}

#[test]
fn gmail_ignores_dots_and_tags_and_googlemail_is_gmail() {
    assert_eq!(canonical("Ann.Lee+union@GMail.com"), "annlee@gmail.com");
    assert_eq!(canonical("a.n.n.lee@googlemail.com"), "annlee@gmail.com");
}

#[test]
fn providers_with_plus_tags_lose_the_tag_but_keep_dots() {
    for domain in [
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "protonmail.com",
        "proton.me",
    ] {
        assert_eq!(
            canonical(&format!("Ann.Lee+x@{domain}")),
            format!("ann.lee@{domain}")
        );
    }
}

#[test]
fn a_dot_left_before_a_removed_tag_is_dropped_too() {
    assert_eq!(canonical("ann.+x@outlook.com"), "ann@outlook.com");
}

#[test]
fn yahoo_and_other_domains_are_only_lower_cased() {
    assert_eq!(canonical("Ann-Lee+x@Yahoo.com"), "ann-lee+x@yahoo.com");
    assert_eq!(canonical("Ann.Lee+x@union.org"), "ann.lee+x@union.org");
}

#[test]
fn a_gmail_address_that_is_only_a_tag_keeps_its_whole_mailbox() {
    assert_eq!(canonical("+union@gmail.com"), "+union@gmail.com");
}

#[test]
fn an_employer_is_optional_trimmed_and_limited_to_two_hundred_characters() {
    assert_eq!(Employer::parse_optional("   "), Ok(None));
    assert_eq!(
        Employer::parse_optional(" Acme Co. ")
            .unwrap()
            .unwrap()
            .as_str(),
        "Acme Co."
    );
    assert_eq!(
        Employer::parse_optional(&"x".repeat(201)),
        Err(FieldProblem::TooLong { max: 200 })
    );
    assert_eq!(
        Employer::parse_optional("Acme\0"),
        Err(FieldProblem::Invalid)
    );
}

#[test]
fn a_postal_code_is_upper_cased_and_must_look_like_one() {
    assert_eq!(
        PostalCode::parse(" sw1a 1aa ").unwrap().as_str(),
        "SW1A 1AA"
    );
    assert_eq!(
        PostalCode::parse("94110-1234").unwrap().as_str(),
        "94110-1234"
    );
    assert_eq!(PostalCode::parse_optional(""), Ok(None));
    assert_eq!(PostalCode::parse("1"), Err(FieldProblem::Invalid));
    assert_eq!(PostalCode::parse("--"), Err(FieldProblem::Invalid));
    assert_eq!(PostalCode::parse("941_10"), Err(FieldProblem::Invalid));
    assert_eq!(
        PostalCode::parse("1234567890123"),
        Err(FieldProblem::TooLong { max: 12 })
    );
}

#[test]
fn a_phone_needs_seven_to_twenty_digits_and_ordinary_punctuation() {
    assert_eq!(
        Phone::parse(" +1 (415) 555-0100 ").unwrap().as_str(),
        "+1 (415) 555-0100"
    );
    assert_eq!(Phone::parse("555.0100").unwrap().as_str(), "555.0100");
    assert_eq!(Phone::parse_optional(" "), Ok(None));
    assert_eq!(Phone::parse("555-010"), Err(FieldProblem::Invalid));
    assert_eq!(Phone::parse("555-0100 ext 2"), Err(FieldProblem::Invalid));
    assert_eq!(Phone::parse(&"1".repeat(21)), Err(FieldProblem::Invalid));
    assert_eq!(
        Phone::parse(&"1 ".repeat(17)),
        Err(FieldProblem::TooLong { max: 32 })
    );
}

#[test]
fn a_language_is_read_from_a_code_or_a_regional_tag() {
    assert_eq!(Language::parse("EN"), Ok(Language::En));
    assert_eq!(Language::parse("es-MX"), Ok(Language::Es));
    assert_eq!(Language::parse("es_419"), Ok(Language::Es));
    assert_eq!(Language::parse(""), Err(FieldProblem::Required));
    assert_eq!(Language::parse("fr"), Err(FieldProblem::Invalid));
    assert_eq!(Language::parse("esperanto"), Err(FieldProblem::Invalid));
    assert_eq!(Language::default(), Language::En);
    assert_eq!(Language::Es.code(), "es");
}

#[test]
fn the_browser_language_with_the_highest_quality_wins() {
    let pick = Language::from_accept_language;
    assert_eq!(pick("es-MX,es;q=0.9,en;q=0.8"), Language::Es);
    assert_eq!(pick("fr-FR, en;q=0.5, es;q=0.7"), Language::Es);
    assert_eq!(pick("en;q=0.5,es;q=0.5"), Language::En);
    assert_eq!(pick("es;q=0, en;q=0.1"), Language::En);
    assert_eq!(pick("fr, de"), Language::En);
    assert_eq!(pick(""), Language::En);
    assert_eq!(pick("es;q=nonsense, en;q=0.2"), Language::En);
}

#[test]
fn a_campaign_slug_is_lower_cased_and_may_not_start_or_end_with_a_hyphen() {
    assert_eq!(
        CampaignSlug::parse("Fair-Contract-2025").unwrap().as_str(),
        "fair-contract-2025"
    );
    assert_eq!(CampaignSlug::parse(""), Err(FieldProblem::Required));
    assert_eq!(CampaignSlug::parse("-strike"), Err(FieldProblem::Invalid));
    assert_eq!(CampaignSlug::parse("strike-"), Err(FieldProblem::Invalid));
    assert_eq!(
        CampaignSlug::parse("fair_contract"),
        Err(FieldProblem::Invalid)
    );
    assert_eq!(CampaignSlug::parse("\u{212a}"), Err(FieldProblem::Invalid));
    assert_eq!(
        CampaignSlug::parse(&"a".repeat(65)),
        Err(FieldProblem::TooLong { max: 64 })
    );
}

#[test]
fn a_local_is_a_positive_number_or_community() {
    assert_eq!(LocalChoice::parse(" 42 "), Ok(LocalChoice::Local(42)));
    assert_eq!(
        LocalChoice::parse("Community"),
        Ok(LocalChoice::CommunitySupporter)
    );
    assert_eq!(LocalChoice::parse(""), Err(FieldProblem::Required));
    for input in ["0", "-3", "+3", "4.5", "local 3", "99999999999999999999"] {
        assert_eq!(
            LocalChoice::parse(input),
            Err(FieldProblem::Invalid),
            "{input:?}"
        );
    }
    assert_eq!(LocalChoice::Local(7).local_id(), Some(7));
    assert_eq!(LocalChoice::CommunitySupporter.local_id(), None);
}

fn plausible_email() -> impl Strategy<Value = String> {
    (
        "[A-Za-z0-9][A-Za-z0-9.+_-]{0,20}",
        prop::sample::select(vec![
            "gmail.com",
            "GoogleMail.com",
            "outlook.com",
            "yahoo.com",
            "proton.me",
            "union.org",
        ]),
    )
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
}

proptest! {
    #[test]
    fn parsing_any_text_never_panics(input in any::<String>()) {
        let _ = SignerName::parse(&input);
        let _ = SignerEmail::parse(&input);
        let _ = Employer::parse_optional(&input);
        let _ = PostalCode::parse_optional(&input);
        let _ = Phone::parse_optional(&input);
        let _ = Language::parse(&input);
        let _ = Language::from_accept_language(&input);
        let _ = CampaignSlug::parse(&input);
        let _ = LocalChoice::parse(&input);
    }

    #[test]
    fn a_parsed_name_is_short_tidy_and_parses_to_itself(input in "\\PC{0,120}") {
        if let Ok(name) = SignerName::parse(&input) {
            prop_assert!(name.as_str().chars().count() <= 100);
            prop_assert_eq!(name.as_str().trim(), name.as_str());
            prop_assert!(!name.as_str().contains("  "));
            prop_assert_eq!(SignerName::parse(name.as_str()), Ok(name.clone()));
        }
    }

    #[test]
    fn a_parsed_slug_parses_to_itself(input in "[a-zA-Z0-9-]{0,70}") {
        if let Ok(slug) = CampaignSlug::parse(&input) {
            prop_assert_eq!(CampaignSlug::parse(slug.as_str()), Ok(slug.clone()));
        }
    }

    #[test]
    fn the_canonical_form_of_a_canonical_email_is_itself(input in plausible_email()) {
        if let Ok(address) = SignerEmail::parse(&input) {
            let once = address.canonical();
            let again = SignerEmail::parse(once.as_str()).map(|e| e.canonical());
            prop_assert_eq!(again, Ok(once));
        }
    }

    #[test]
    fn gmail_dot_and_plus_variants_share_a_canonical_form(
        mailbox in "[a-z][a-z0-9]{1,15}",
        dots in prop::collection::vec(any::<bool>(), 16),
        tag in "[a-z0-9]{0,8}",
        upper in any::<bool>(),
    ) {
        let mut dotted = String::new();
        for (i, c) in mailbox.chars().enumerate() {
            if i > 0 && dots[i] {
                dotted.push('.');
            }
            dotted.push(if upper { c.to_ascii_uppercase() } else { c });
        }
        let variant = format!("{dotted}+{tag}@googlemail.com");
        prop_assert_eq!(canonical(&variant), canonical(&format!("{mailbox}@gmail.com")));
    }
}
