//! A signature as it arrives from the sign form or the JSON API, and the one way to turn
//! it into a validated request: every field checked, every problem reported at once, in
//! words the signer can act on.

use std::fmt;

use crate::i18n::td_string;
use serde::{Deserialize, Serialize};

use super::fields::{
    Employer, FieldProblem, Language, LocalChoice, Phone, PostalCode, SignerEmail, SignerName,
};

/// A field of the sign form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    GivenName,
    FamilyName,
    Email,
    Local,
    Employer,
    PostalCode,
    Phone,
    Language,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::GivenName,
        Field::FamilyName,
        Field::Email,
        Field::Local,
        Field::Employer,
        Field::PostalCode,
        Field::Phone,
        Field::Language,
    ];

    /// The field whose form control is called `name`.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }

    /// The form control's name, shared by the HTML form and the JSON API.
    pub fn name(self) -> &'static str {
        match self {
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Email => "email",
            Field::Local => "local_id",
            Field::Employer => "employer",
            Field::PostalCode => "postal_code",
            Field::Phone => "phone",
            Field::Language => "lang",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FieldProblem {
    /// What the signer should do about this problem, in their language.
    pub fn message(&self, field: Field, lang: Language) -> String {
        use Field as F;
        use FieldProblem as P;
        let locale = lang.locale();
        let text = match (self, field) {
            (P::TooLong { max }, _) => return td_string!(locale, field.too_long, max).to_string(),
            (P::Required, F::GivenName) => td_string!(locale, field.given_name_required),
            (P::Required, F::FamilyName) => td_string!(locale, field.family_name_required),
            (P::Invalid, F::GivenName | F::FamilyName) => td_string!(locale, field.name_invalid),
            (P::NotAccepted, F::Email) => td_string!(locale, field.email_not_accepted),
            (P::NotAccepted, _) => td_string!(locale, field.not_accepted),
            (P::Required, F::Email) => td_string!(locale, field.email_required),
            (P::Invalid, F::Email) => td_string!(locale, field.email_invalid),
            (_, F::Local) => td_string!(locale, field.local),
            (P::Invalid, F::Employer) => td_string!(locale, field.employer_invalid),
            (P::Invalid, F::PostalCode) => td_string!(locale, field.postal_code_invalid),
            (P::Invalid, F::Phone) => td_string!(locale, field.phone_invalid),
            (_, F::Language) => td_string!(locale, field.language),
            // Optional fields are never reported as required, but the match must cover them.
            (P::Required, F::Employer | F::PostalCode | F::Phone) => {
                td_string!(locale, field.required)
            }
        };
        text.to_owned()
    }
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: Field,
    pub problem: FieldProblem,
}

/// Every problem found in one submission, in form order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// One problem found after the fields were parsed, such as a local that cannot sign
    /// this campaign.
    pub fn single(field: Field, problem: FieldProblem) -> FieldErrors {
        FieldErrors(vec![FieldError { field, problem }])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: Field) -> Option<&FieldProblem> {
        self.iter()
            .find(|error| error.field == field)
            .map(|error| &error.problem)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// Keeps a field's value, or records its problem so that all of them are reported.
    fn check<T>(&mut self, field: Field, result: Result<T, FieldProblem>) -> Option<T> {
        result
            .map_err(|problem| self.0.push(FieldError { field, problem }))
            .ok()
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.iter().enumerate() {
            let separator = if i == 0 { "" } else { "; " };
            write!(f, "{separator}{}: {}", error.field, error.problem)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// The sign form's fields as raw text, before any checking.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SignatureInput {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub local: String,
    pub employer: String,
    pub postal_code: String,
    pub phone: String,
    pub show_name: bool,
    pub lang: String,
}

/// A signature whose every field passed its rule.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureRequest {
    pub given_name: SignerName,
    pub family_name: SignerName,
    pub email: SignerEmail,
    pub local: LocalChoice,
    pub employer: Option<Employer>,
    pub postal_code: Option<PostalCode>,
    pub phone: Option<Phone>,
    pub show_name: bool,
    pub language: Language,
}

impl SignatureRequest {
    pub fn parse(input: &SignatureInput) -> Result<SignatureRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let given_name = errors.check(Field::GivenName, SignerName::parse(&input.given_name));
        let family_name = errors.check(Field::FamilyName, SignerName::parse(&input.family_name));
        let email = errors.check(Field::Email, SignerEmail::parse(&input.email));
        let local = errors.check(Field::Local, LocalChoice::parse(&input.local));
        let employer = errors.check(Field::Employer, Employer::parse_optional(&input.employer));
        let postal_code = errors.check(
            Field::PostalCode,
            PostalCode::parse_optional(&input.postal_code),
        );
        let phone = errors.check(Field::Phone, Phone::parse_optional(&input.phone));
        // A form without a language choice is read in the default one.
        let language = errors.check(
            Field::Language,
            Language::parse(&input.lang).or_else(|problem| match problem {
                FieldProblem::Required => Ok(Language::default()),
                other => Err(other),
            }),
        );
        match (
            given_name,
            family_name,
            email,
            local,
            employer,
            postal_code,
            phone,
            language,
        ) {
            (
                Some(given_name),
                Some(family_name),
                Some(email),
                Some(local),
                Some(employer),
                Some(postal_code),
                Some(phone),
                Some(language),
            ) => Ok(SignatureRequest {
                given_name,
                family_name,
                email,
                local,
                employer,
                postal_code,
                phone,
                show_name: input.show_name,
                language,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<&SignatureInput> for SignatureRequest {
    type Error = FieldErrors;

    fn try_from(input: &SignatureInput) -> Result<Self, FieldErrors> {
        Self::parse(input)
    }
}

/// One line of a paper sign-up sheet, as an officer types it in or uploads it.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaperInput {
    pub given_name: String,
    pub family_name: String,
    /// Paper sheets often have none.
    pub email: String,
    pub postal_code: String,
    pub phone: String,
    pub employer: String,
}

/// A paper signature that passed the same field rules as the sign form; only the email
/// may be missing.
#[derive(Clone)]
pub struct PaperSignature {
    pub given_name: SignerName,
    pub family_name: SignerName,
    pub email: Option<SignerEmail>,
    pub employer: Option<Employer>,
    pub postal_code: Option<PostalCode>,
    pub phone: Option<Phone>,
}

impl PaperSignature {
    pub fn parse(input: &PaperInput) -> Result<PaperSignature, FieldErrors> {
        let mut errors = FieldErrors::default();
        let given_name = errors.check(Field::GivenName, SignerName::parse(&input.given_name));
        let family_name = errors.check(Field::FamilyName, SignerName::parse(&input.family_name));
        let email = errors.check(
            Field::Email,
            if input.email.trim().is_empty() {
                Ok(None)
            } else {
                SignerEmail::parse(&input.email).map(Some)
            },
        );
        let employer = errors.check(Field::Employer, Employer::parse_optional(&input.employer));
        let postal_code = errors.check(
            Field::PostalCode,
            PostalCode::parse_optional(&input.postal_code),
        );
        let phone = errors.check(Field::Phone, Phone::parse_optional(&input.phone));
        match (given_name, family_name, email, employer, postal_code, phone) {
            (
                Some(given_name),
                Some(family_name),
                Some(email),
                Some(employer),
                Some(postal_code),
                Some(phone),
            ) => Ok(PaperSignature {
                given_name,
                family_name,
                email,
                employer,
                postal_code,
                phone,
            }),
            _ => Err(errors),
        }
    }
}

impl fmt::Debug for PaperSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaperSignature").finish_non_exhaustive()
    }
}

/// Signer data must not reach logs, so only the non-identifying fields are shown.
impl fmt::Debug for SignatureRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureRequest")
            .field("local", &self.local)
            .field("language", &self.language)
            .field("show_name", &self.show_name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled_in() -> SignatureInput {
        SignatureInput {
            given_name: " Ann ".into(),
            family_name: "Lee".into(),
            email: "Ann.Lee@Example.org".into(),
            local: "1199".into(),
            employer: "".into(),
            postal_code: "94110".into(),
            phone: "".into(),
            show_name: true,
            lang: "es-MX".into(),
        }
    }

    #[test]
    fn a_filled_in_form_becomes_a_signature_request() {
        let request = SignatureRequest::parse(&filled_in()).unwrap();
        assert_eq!(request.given_name.as_str(), "Ann");
        assert_eq!(request.email.as_str(), "Ann.Lee@example.org");
        assert_eq!(request.local, LocalChoice::Local(1199));
        assert_eq!(request.employer, None);
        assert_eq!(request.postal_code.unwrap().as_str(), "94110");
        assert_eq!(request.phone, None);
        assert!(request.show_name);
        assert_eq!(request.language, Language::Es);
    }

    #[test]
    fn every_problem_in_a_form_is_reported_at_once_in_form_order() {
        let input = SignatureInput {
            email: "not an email".into(),
            phone: "12".into(),
            lang: "fr".into(),
            ..SignatureInput::default()
        };
        let errors = SignatureRequest::parse(&input).unwrap_err();
        let found: Vec<_> = errors.iter().map(|e| (e.field, e.problem)).collect();
        assert_eq!(
            found,
            [
                (Field::GivenName, FieldProblem::Required),
                (Field::FamilyName, FieldProblem::Required),
                (Field::Email, FieldProblem::Invalid),
                (Field::Local, FieldProblem::Required),
                (Field::Phone, FieldProblem::Invalid),
                (Field::Language, FieldProblem::Invalid),
            ]
        );
        assert_eq!(errors.get(Field::Email), Some(&FieldProblem::Invalid));
        assert_eq!(errors.get(Field::Employer), None);
        assert!(!errors.is_empty());
    }

    #[test]
    fn an_empty_language_means_english() {
        let input = SignatureInput {
            lang: " ".into(),
            ..filled_in()
        };
        assert_eq!(
            SignatureRequest::parse(&input).unwrap().language,
            Language::En
        );
    }

    #[test]
    fn field_errors_read_as_a_list_of_field_names_and_problems() {
        let input = SignatureInput {
            local: "community".into(),
            email: "".into(),
            ..filled_in()
        };
        let errors = SignatureRequest::parse(&input).unwrap_err();
        assert_eq!(errors.to_string(), "email: this field is required");
    }

    #[test]
    fn the_debug_form_of_a_request_shows_no_signer_data() {
        let input = SignatureInput {
            phone: "+1 415 555 0100".into(),
            ..filled_in()
        };
        let shown = format!("{:?}", SignatureRequest::parse(&input).unwrap());
        for secret in ["Ann", "Lee", "example", "555"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(
            shown,
            "SignatureRequest { local: Local(1199), language: Es, show_name: true, .. }"
        );
    }

    #[test]
    fn field_names_match_the_form_controls() {
        assert_eq!(Field::Local.name(), "local_id");
        assert_eq!(Field::Language.name(), "lang");
        assert_eq!(Field::GivenName.to_string(), "given_name");
    }

    #[test]
    fn problems_are_explained_in_english_and_spanish() {
        use FieldProblem::*;
        use Language::*;
        assert_eq!(
            Required.message(Field::Email, En),
            "Please enter your email address."
        );
        assert_eq!(
            Required.message(Field::Email, Es),
            "Escriba su correo electrónico."
        );
        assert_eq!(
            Invalid.message(Field::Email, Es),
            "Esa dirección de correo no parece correcta."
        );
        assert_eq!(
            Invalid.message(Field::Local, En),
            "Please choose your local, or “community supporter”."
        );
        assert_eq!(
            TooLong { max: 100 }.message(Field::GivenName, Es),
            "Use como máximo 100 caracteres."
        );
        for field in Field::ALL {
            for problem in [Required, Invalid, TooLong { max: 9 }] {
                assert_ne!(problem.message(field, En), problem.message(field, Es));
            }
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_json_body_with_missing_fields_reads_them_as_empty() {
        let input: SignatureInput =
            serde_json::from_str(r#"{"given_name":"Ann","show_name":true}"#).unwrap();
        assert_eq!(input.given_name, "Ann");
        assert_eq!(input.email, "");
        assert!(input.show_name);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn field_errors_serialise_as_a_list_of_fields_and_problems() {
        let errors = SignatureRequest::parse(&SignatureInput {
            given_name: "x".repeat(101),
            ..filled_in()
        })
        .unwrap_err();
        let json = serde_json::to_string(&errors).unwrap();
        assert_eq!(
            json,
            r#"[{"field":"given_name","problem":{"too_long":{"max":100}}}]"#
        );
        assert_eq!(serde_json::from_str::<FieldErrors>(&json).unwrap(), errors);
    }
}
