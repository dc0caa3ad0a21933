//! Rollcall's domain: the types and rules of union petitions and strike pledges.
//!
//! Everything outside `ssr` compiles to wasm and is shared with the sign form, so the
//! browser checks input with the same rules as the server. Under `ssr` live the
//! storage entities and the services (signing, confirming, tallies, mail, imports).

pub mod domain;
pub mod views;

// `i18n`: the words of every page, form message and mail, generated at build time from
// `locales/{en,es}.json` (see locales/README.md): `td_string!(Locale::es, sign.button)`.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

#[cfg(feature = "ssr")]
pub mod access;
#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod announcing;
#[cfg(feature = "ssr")]
pub mod blocks;
#[cfg(feature = "ssr")]
pub mod campaigns;
#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod collisions;
#[cfg(feature = "ssr")]
pub mod confirming;
#[cfg(feature = "ssr")]
pub mod dashboards;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod editing;
#[cfg(feature = "ssr")]
pub mod entities;
#[cfg(feature = "ssr")]
pub mod exporting;
#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod invalidating;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod lookup;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod membership;
#[cfg(feature = "ssr")]
pub mod moderation;
#[cfg(feature = "ssr")]
pub mod names;
#[cfg(feature = "ssr")]
pub mod paper;
#[cfg(feature = "ssr")]
pub mod partners;
#[cfg(feature = "ssr")]
pub mod pledges;
#[cfg(feature = "ssr")]
pub mod qr;
#[cfg(feature = "ssr")]
pub mod recovery;
#[cfg(feature = "ssr")]
pub mod retention;
#[cfg(feature = "ssr")]
pub mod revoking;
#[cfg(feature = "ssr")]
pub mod series;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod stamp;
#[cfg(feature = "ssr")]
pub mod tally;
#[cfg(feature = "ssr")]
pub mod verifying;
#[cfg(feature = "ssr")]
pub mod withdrawing;

/// The translation files agree: a volunteer's edit that drops a key or a `{{ name }}`
/// fails here (the build itself would only warn and fall back to English).
#[cfg(test)]
mod translation_files {
    use std::collections::BTreeMap;

    use serde_json::Value;

    /// Each key's path, with the sorted names its text fills in.
    fn entries(prefix: &str, value: &Value, out: &mut BTreeMap<String, Vec<String>>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    entries(&format!("{prefix}{key}."), value, out);
                }
            }
            Value::String(text) => {
                let mut names: Vec<String> = text
                    .split("{{")
                    .skip(1)
                    .filter_map(|rest| rest.split_once("}}"))
                    .map(|(name, _)| name.trim().to_owned())
                    .collect();
                names.sort();
                out.insert(prefix.trim_end_matches('.').to_owned(), names);
            }
            other => panic!("{prefix}: a translation is text, not {other}"),
        }
    }

    fn load(json: &str) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        entries(
            "",
            &serde_json::from_str(json).expect("valid JSON"),
            &mut out,
        );
        out
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let english = load(include_str!("../locales/en.json"));
        let spanish = load(include_str!("../locales/es.json"));
        assert!(english.len() > 100, "the files hold the site's words");
        for (key, names) in &english {
            assert_eq!(spanish.get(key), Some(names), "es.json: {key}");
        }
        for key in spanish.keys() {
            assert!(
                english.contains_key(key),
                "es.json has a key English lacks: {key}"
            );
        }
    }
}
