//! The people who sign in (admins, organizers, officers): their address, password and
//! second-factor code as parsed types, and the roles they can hold.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::fields::{FieldProblem, SignerEmail};

/// A user's sign-in address, wholly lower-cased: one account per mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountEmail(String);

impl AccountEmail {
    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let email = SignerEmail::parse(input)?;
        Ok(Self(email.as_str().to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: long enough to resist guessing (NIST SP 800-63B asks at least 8; we
/// ask 12, since these accounts see member lists), short enough to hash cheaply.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let chars = input.chars().count();
        if input.trim().is_empty() {
            Err(FieldProblem::Required)
        } else if chars > Self::MAX_CHARS {
            Err(FieldProblem::TooLong {
                max: Self::MAX_CHARS,
            })
        } else if chars < Self::MIN_CHARS {
            Err(FieldProblem::Invalid)
        } else {
            Ok(Self(input.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Six digits from an authenticator app; spaces people type are dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl TotpCode {
    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            Err(FieldProblem::Required)
        } else if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(FieldProblem::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpCode(<redacted>)")
    }
}

/// What a user (or an API key) may do, and over what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Grant {
    /// Everything.
    Admin,
    /// A campaign and all its signers, community supporters included.
    CampaignOrganizer { campaign_id: i64 },
    /// A union's own locals' signers on the campaigns it sponsors; counts for the rest.
    UnionOrganizer { union_id: i64 },
    /// One local's signers.
    Officer { local_id: i64 },
}

impl Grant {
    /// The stored role name.
    pub fn role(&self) -> &'static str {
        match self {
            Grant::Admin => "admin",
            Grant::CampaignOrganizer { .. } | Grant::UnionOrganizer { .. } => "organizer",
            Grant::Officer { .. } => "officer",
        }
    }

    /// Back from the stored columns; `None` for a row no grant could have written.
    pub fn from_columns(
        role: &str,
        campaign_id: Option<i64>,
        union_id: Option<i64>,
        local_id: Option<i64>,
    ) -> Option<Grant> {
        match (role, campaign_id, union_id, local_id) {
            ("admin", None, None, None) => Some(Grant::Admin),
            ("organizer", Some(campaign_id), None, None) => {
                Some(Grant::CampaignOrganizer { campaign_id })
            }
            ("organizer", None, Some(union_id), None) => Some(Grant::UnionOrganizer { union_id }),
            ("officer", None, None, Some(local_id)) => Some(Grant::Officer { local_id }),
            _ => None,
        }
    }

    /// Whether an API key can be made for this grant: a campaign's organizer or a local's
    /// officer (an admin's or a union organizer's reach is too wide for a key).
    pub fn takes_api_key(&self) -> bool {
        matches!(
            self,
            Grant::CampaignOrganizer { .. } | Grant::Officer { .. }
        )
    }

    /// How a form names it: `admin`, `campaign:ID`, `union:ID` or `local:ID`.
    pub fn choice(&self) -> String {
        match *self {
            Grant::Admin => "admin".to_owned(),
            Grant::CampaignOrganizer { campaign_id } => format!("campaign:{campaign_id}"),
            Grant::UnionOrganizer { union_id } => format!("union:{union_id}"),
            Grant::Officer { local_id } => format!("local:{local_id}"),
        }
    }

    /// Back from [`Grant::choice`]; `None` for anything it could not have written.
    pub fn parse_choice(input: &str) -> Option<Grant> {
        let id = |text: &str| text.parse::<i64>().ok();
        match input.split_once(':') {
            None if input == "admin" => Some(Grant::Admin),
            Some(("campaign", id_text)) => Some(Grant::CampaignOrganizer {
                campaign_id: id(id_text)?,
            }),
            Some(("union", id_text)) => Some(Grant::UnionOrganizer {
                union_id: id(id_text)?,
            }),
            Some(("local", id_text)) => Some(Grant::Officer {
                local_id: id(id_text)?,
            }),
            _ => None,
        }
    }

    /// The columns it is stored in: (role, campaign, union, local).
    pub fn columns(&self) -> (&'static str, Option<i64>, Option<i64>, Option<i64>) {
        match *self {
            Grant::Admin => ("admin", None, None, None),
            Grant::CampaignOrganizer { campaign_id } => {
                ("organizer", Some(campaign_id), None, None)
            }
            Grant::UnionOrganizer { union_id } => ("organizer", None, Some(union_id), None),
            Grant::Officer { local_id } => ("officer", None, None, Some(local_id)),
        }
    }
}

/// A single-use recovery code, for when the authenticator app is lost: ten letters and
/// digits of base32, shown as `abcde-fghij`; spaces, hyphens and case do not matter.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub const LEN: usize = 10;
    const ALPHABET: &'static [u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

    pub fn parse(input: &str) -> Result<Self, FieldProblem> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if code.len() != Self::LEN || !code.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            return Err(FieldProblem::Invalid);
        }
        Ok(Self(code))
    }

    #[cfg(feature = "ssr")]
    pub fn generate() -> Self {
        let mut bytes = [0u8; Self::LEN];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        // 256 is a multiple of 32: every letter equally likely.
        Self(
            bytes
                .iter()
                .map(|b| char::from(Self::ALPHABET[usize::from(b % 32)]))
                .collect(),
        )
    }

    /// As shown to the person: two groups of five.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }

    /// What is stored: 50 random bits, so a fast hash is enough.
    #[cfg(feature = "ssr")]
    pub fn hash(&self) -> String {
        super::text::sha256_hex(&[b"recovery:", self.0.as_bytes()])
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_code_reads_back_however_it_is_typed() {
        let code = RecoveryCode::parse("ABCDE-fgh27").unwrap();
        assert_eq!(code.display(), "abcde-fgh27");
        assert_eq!(RecoveryCode::parse(" abcde fgh27 ").unwrap(), code);
        assert!(
            RecoveryCode::parse("abcde-fgh1").is_err(),
            "1 is not base32"
        );
        assert!(
            RecoveryCode::parse("123456").is_err(),
            "a TOTP code is not one"
        );
    }

    #[test]
    fn an_account_email_is_lower_cased_whole() {
        assert_eq!(
            AccountEmail::parse(" Ana.Ruiz@Example.ORG ")
                .unwrap()
                .as_str(),
            "ana.ruiz@example.org"
        );
    }

    #[test]
    fn a_password_shorter_than_twelve_characters_is_refused() {
        assert_eq!(Password::parse("short pass"), Err(FieldProblem::Invalid));
        assert_eq!(Password::parse("   "), Err(FieldProblem::Required));
        assert!(Password::parse("correct horse battery").is_ok());
    }

    #[test]
    fn a_password_is_never_printed() {
        let password = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }

    #[test]
    fn a_code_is_six_digits_and_spaces_are_dropped() {
        assert_eq!(TotpCode::parse("123 456").unwrap().as_str(), "123456");
        assert_eq!(TotpCode::parse("12345"), Err(FieldProblem::Invalid));
        assert_eq!(TotpCode::parse("12a456"), Err(FieldProblem::Invalid));
        assert_eq!(TotpCode::parse(""), Err(FieldProblem::Required));
    }

    #[test]
    fn a_grant_survives_its_columns() {
        for grant in [
            Grant::Admin,
            Grant::CampaignOrganizer { campaign_id: 3 },
            Grant::UnionOrganizer { union_id: 4 },
            Grant::Officer { local_id: 5 },
        ] {
            let (role, c, u, l) = grant.columns();
            assert_eq!(Grant::from_columns(role, c, u, l), Some(grant));
        }
        assert_eq!(Grant::from_columns("officer", Some(1), None, None), None);
    }

    #[test]
    fn a_grant_survives_its_form_value_and_nothing_else_parses() {
        for grant in [
            Grant::Admin,
            Grant::CampaignOrganizer { campaign_id: 3 },
            Grant::UnionOrganizer { union_id: 4 },
            Grant::Officer { local_id: 5 },
        ] {
            assert_eq!(Grant::parse_choice(&grant.choice()), Some(grant));
        }
        for bad in ["", "root", "local:", "local:x", "campaign:1:2", "admin:1"] {
            assert_eq!(Grant::parse_choice(bad), None, "{bad}");
        }
    }
}
