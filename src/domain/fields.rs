//! The fields a signer fills in, each as a type that can only hold a value that passed
//! its rule. The same rules run in the browser (wasm) and on the server.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a field's text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum FieldProblem {
    #[error("this field is required")]
    Required,
    #[error("this field is longer than {max} characters")]
    TooLong { max: usize },
    #[error("this field is not valid")]
    Invalid,
    /// Valid, but refused: an address at a blocked (disposable-mail) domain.
    #[error("this value is not accepted")]
    NotAccepted,
}

/// A string newtype: `as_str`, `Display`, and serde as a string that is parsed again on
/// the way in, so a deserialised value keeps the invariant.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldProblem;

            fn try_from(value: String) -> Result<Self, FieldProblem> {
                Self::parse(&value)
            }
        }

        impl FromStr for $name {
            type Err = FieldProblem;

            fn from_str(s: &str) -> Result<Self, FieldProblem> {
                Self::parse(s)
            }
        }
    };
}

/// Empty input means "not given" for optional fields.
macro_rules! parse_optional {
    ($name:ident) => {
        impl $name {
            pub fn parse_optional(input: &str) -> Result<Option<Self>, FieldProblem> {
                if input.trim().is_empty() {
                    Ok(None)
                } else {
                    Self::parse(input).map(Some)
                }
            }
        }
    };
}

/// A given or family name as the signer wrote it, tidied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SignerName(String);
string_newtype!(SignerName);

impl SignerName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldProblem::Required);
        }
        // `<` and `>` have no place in a name and are the start of most markup injection.
        if trimmed
            .chars()
            .any(|c| c.is_control() || c == '<' || c == '>')
        {
            return Err(FieldProblem::Invalid);
        }
        let name = normalise(&trimmed.split_whitespace().collect::<Vec<_>>().join(" "));
        if name.chars().count() > Self::MAX_CHARS {
            return Err(FieldProblem::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(name))
    }
}

/// NFC so that "é" typed two ways is one name; only on the server, because the Unicode
/// tables must not be shipped to the browser.
#[cfg(feature = "ssr")]
fn normalise(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect()
}

#[cfg(not(feature = "ssr"))]
fn normalise(s: &str) -> String {
    s.to_owned()
}

/// An email address a signer can receive mail at, with its domain in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SignerEmail(String);
string_newtype!(SignerEmail);

impl SignerEmail {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldProblem::Required);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(FieldProblem::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let options = email_address::Options::default()
            .without_display_text()
            .without_domain_literal()
            .with_required_tld();
        let Some((local, domain)) = trimmed.split_once('@') else {
            return Err(FieldProblem::Invalid);
        };
        if domain.contains('@')
            || !domain.contains('.')
            || trimmed.chars().any(char::is_whitespace)
            || email_address::EmailAddress::parse_with_options(trimmed, options).is_err()
        {
            return Err(FieldProblem::Invalid);
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }

    fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }

    /// The address as the mailbox provider sees it, so that `Ann.Lee+union@gmail.com` and
    /// `annlee@gmail.com` count as one signer.
    pub fn canonical(&self) -> CanonicalEmail {
        let local = self.local_part().to_lowercase();
        let domain = match self.domain().to_lowercase().as_str() {
            "googlemail.com" => "gmail.com".to_owned(),
            other => other.to_owned(),
        };
        let canonical_local = match domain.as_str() {
            "gmail.com" => without_tag(&local).replace('.', ""),
            // Yahoo's disposable addresses use '-', which also appears in real names.
            "outlook.com" | "hotmail.com" | "live.com" | "icloud.com" | "me.com"
            | "fastmail.com" | "protonmail.com" | "proton.me" => without_tag(&local).to_owned(),
            _ => local.clone(),
        };
        // A local part that is nothing but a tag is kept whole rather than left empty.
        let local = if canonical_local.is_empty() {
            local
        } else {
            canonical_local
        };
        CanonicalEmail(format!("{local}@{domain}"))
    }
}

/// The mailbox without its `+tag`; a dot left at the end could not start a real mailbox.
fn without_tag(local: &str) -> &str {
    local
        .split_once('+')
        .map_or(local, |(mailbox, _)| mailbox.trim_end_matches('.'))
}

/// The key under which one person's signatures are counted once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct CanonicalEmail(String);

impl CanonicalEmail {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CanonicalEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<CanonicalEmail> for String {
    fn from(value: CanonicalEmail) -> String {
        value.0
    }
}

/// Where the signer works, as they wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Employer(String);
string_newtype!(Employer);
parse_optional!(Employer);

impl Employer {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldProblem::Required);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(FieldProblem::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldProblem::Invalid);
        }
        Ok(Self(trimmed.to_owned()))
    }
}

/// A postal or ZIP code, upper-cased; its shape is not checked per country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode(String);
string_newtype!(PostalCode);
parse_optional!(PostalCode);

impl PostalCode {
    pub const MAX_CHARS: usize = 12;

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let code = input.trim().to_uppercase();
        if code.is_empty() {
            return Err(FieldProblem::Required);
        }
        if code.chars().count() > Self::MAX_CHARS {
            return Err(FieldProblem::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let allowed = code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
        if !allowed || code.len() < 2 || !code.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(FieldProblem::Invalid);
        }
        Ok(Self(code))
    }
}

/// A phone number as the signer wrote it; only its characters and digit count are checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);
string_newtype!(Phone);
parse_optional!(Phone);

impl Phone {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldProblem::Required);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(FieldProblem::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let allowed = trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(7..=20).contains(&digits) {
            return Err(FieldProblem::Invalid);
        }
        Ok(Self(trimmed.to_owned()))
    }
}

/// The languages Rollcall speaks to signers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Es,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    /// Accepts a bare code or a tag with a region, such as `es-MX`.
    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let tag = input.trim();
        if tag.is_empty() {
            return Err(FieldProblem::Required);
        }
        let primary = tag.split(['-', '_']).next().unwrap_or(tag);
        Self::ALL
            .into_iter()
            .find(|language| primary.eq_ignore_ascii_case(language.code()))
            .ok_or(FieldProblem::Invalid)
    }

    /// The locale of this language's translations (`locales/{code}.json`).
    pub fn locale(self) -> crate::i18n::Locale {
        match self {
            Language::En => crate::i18n::Locale::en,
            Language::Es => crate::i18n::Locale::es,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }

    /// The supported language the browser ranks highest; ties go to the one listed first.
    pub fn from_accept_language(header: &str) -> Language {
        let mut best: Option<(Language, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(Some(1.0));
            let Some(quality) = quality.filter(|q| (0.0..=1.0).contains(q) && *q > 0.0) else {
                continue;
            };
            let language = if tag == "*" {
                Some(Language::default())
            } else {
                Language::parse(tag).ok()
            };
            if let Some(language) = language
                && best.is_none_or(|(_, best_quality)| quality > best_quality)
            {
                best = Some((language, quality));
            }
        }
        best.map(|(language, _)| language).unwrap_or_default()
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = FieldProblem;

    fn from_str(s: &str) -> Result<Self, FieldProblem> {
        Self::parse(s)
    }
}

/// The address of a campaign in URLs: lower-case letters, digits and inner hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CampaignSlug(String);
string_newtype!(CampaignSlug);

impl CampaignSlug {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        // ASCII-only lowering: full Unicode lowering would turn the Kelvin sign into 'k'.
        let slug = input.trim().to_ascii_lowercase();
        if slug.is_empty() {
            return Err(FieldProblem::Required);
        }
        if slug.chars().count() > Self::MAX_CHARS {
            return Err(FieldProblem::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let allowed = slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !allowed || slug.starts_with('-') || slug.ends_with('-') {
            return Err(FieldProblem::Invalid);
        }
        Ok(Self(slug))
    }
}

/// Which local the signer belongs to, or that they sign as a supporter from the community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalChoice {
    Local(i64),
    CommunitySupporter,
}

impl LocalChoice {
    /// The form's value for a community supporter.
    pub const COMMUNITY: &'static str = "community";

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let value = input.trim();
        if value.is_empty() {
            return Err(FieldProblem::Required);
        }
        if value.eq_ignore_ascii_case(Self::COMMUNITY) {
            return Ok(Self::CommunitySupporter);
        }
        match value.parse::<i64>() {
            Ok(id) if id > 0 && value.bytes().all(|b| b.is_ascii_digit()) => Ok(Self::Local(id)),
            _ => Err(FieldProblem::Invalid),
        }
    }

    pub fn local_id(&self) -> Option<i64> {
        match self {
            Self::Local(id) => Some(*id),
            Self::CommunitySupporter => None,
        }
    }
}

impl FromStr for LocalChoice {
    type Err = FieldProblem;

    fn from_str(s: &str) -> Result<Self, FieldProblem> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests;
