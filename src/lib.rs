//! Rollcall's domain: the types and rules of union petitions and strike pledges.
//!
//! Everything outside `ssr` (`domain`, `views`) compiles to wasm and is shared with the
//! browser, so the sign form checks input with the same rules as the server. Under `ssr`
//! live the rooms that store, sign, count, mail and run campaigns.

pub mod domain;
pub mod views;

// `i18n`: the words of every page, form message and mail, generated at build time from
// `locales/{en,es}.json` (see locales/README.md): `td_string!(Locale::es, sign.button)`.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

// The rooms, each with one job; a room uses only the rooms before it in this list
// (`layout` below fails on a circle). docs/architecture.md draws the picture.
#[cfg(feature = "ssr")]
pub mod abuse;
#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod entities;
#[cfg(feature = "ssr")]
pub mod live;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod organizing;
#[cfg(feature = "ssr")]
pub mod pledges;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod store;

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

/// The rooms of `src/` import each other in one direction only: a change to a room can
/// reach the rooms that use it, never back. A new circle fails here, naming it.
#[cfg(test)]
mod layout {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Each room (a top-level module of `src/`) and the rooms its files name as `crate::X`.
    fn room_imports() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("src is readable") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|ext| ext != "rs") {
                    continue;
                }
                let relative = path.strip_prefix(&src).expect("under src");
                let first = relative
                    .iter()
                    .next()
                    .and_then(|c| c.to_str())
                    .unwrap_or_default();
                let room = first.trim_end_matches(".rs").to_owned();
                if room == "lib" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("a readable file");
                // Unit tests may reach anywhere.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                let used = rooms.entry(room.clone()).or_default();
                for name in imported(code) {
                    if name != room {
                        used.insert(name);
                    }
                }
            }
        }
        let known: BTreeSet<String> = rooms.keys().cloned().collect();
        for used in rooms.values_mut() {
            used.retain(|name| known.contains(name));
        }
        rooms
    }

    /// The first path segment after every `crate::`, including each item of a
    /// `crate::{a, b::c}` group.
    fn imported(code: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut item = String::new();
                for ch in group.chars() {
                    match ch {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            names.insert(first_segment(&item));
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    if depth == 0 {
                        item.push(ch);
                    }
                }
                names.insert(first_segment(&item));
            } else {
                names.insert(first_segment(rest));
            }
        }
        names
    }

    fn first_segment(path: &str) -> String {
        path.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    }

    #[test]
    fn no_room_imports_another_in_a_circle() {
        let rooms = room_imports();
        assert!(rooms.len() >= 8, "the rooms were found: {rooms:?}");
        // Depth-first search; a room met again while on the path closes a circle.
        fn visit<'a>(
            room: &'a str,
            rooms: &'a BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) {
            if let Some(at) = path.iter().position(|r| *r == room) {
                panic!("an import circle: {} -> {room}", path[at..].join(" -> "));
            }
            if done.contains(room) {
                return;
            }
            path.push(room);
            for next in &rooms[room] {
                visit(next, rooms, path, done);
            }
            path.pop();
            done.insert(room);
        }
        let mut done = BTreeSet::new();
        for room in rooms.keys() {
            visit(room, &rooms, &mut Vec::new(), &mut done);
        }
    }

    #[test]
    fn the_top_of_src_keeps_room_for_more() {
        let entries = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
            .expect("src is readable")
            .count();
        assert!(entries <= 14, "src/ has {entries} entries at its top level");
    }
}
