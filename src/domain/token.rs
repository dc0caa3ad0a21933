//! The secret tokens in confirm and withdraw links. Only a token's hash is stored, so a
//! leaked database cannot confirm or withdraw anyone's signature.

use std::fmt;

/// 32 random bytes, base64url without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
}

impl Token {
    /// The length of 32 bytes in unpadded base64.
    pub const LEN: usize = 43;

    #[cfg(feature = "ssr")]
    pub fn generate() -> Token {
        use base64::Engine as _;
        let mut bytes = [0u8; 32];
        // Without the operating system's randomness no token can be safe; there is no
        // sensible way to carry on.
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Token(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Checks only the shape; whether the token exists is the store's question.
    pub fn parse(input: &str) -> Result<Token, TokenError> {
        let well_formed = input.len() == Self::LEN
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Token(input.to_owned()))
        } else {
            Err(TokenError::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[cfg(feature = "ssr")]
    pub fn hash(&self) -> TokenHash {
        TokenHash(super::text::sha256_hex(&[self.0.as_bytes()]))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The lower-case hex SHA-256 of a token: what the database keeps and looks up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a hash read back from storage, where `Token::hash` wrote it.
    pub fn from_stored(hash: String) -> TokenHash {
        TokenHash(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_of_forty_three_base64url_characters_is_accepted() {
        let text = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";
        assert_eq!(Token::parse(text).unwrap().as_str(), text);
    }

    #[test]
    fn tokens_of_the_wrong_length_or_alphabet_are_malformed() {
        for input in [
            "",
            "abc",
            &"a".repeat(42),
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
            &format!("{}+", "a".repeat(42)),
            &format!("{}/", "a".repeat(42)),
            &format!("{}é", "a".repeat(41)),
        ] {
            assert_eq!(Token::parse(input), Err(TokenError::Malformed), "{input:?}");
        }
    }

    #[test]
    fn the_debug_form_of_a_token_hides_it() {
        let token = Token::parse(&"a".repeat(43)).unwrap();
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }

    #[cfg(feature = "ssr")]
    mod server {
        use super::super::*;
        use proptest::prelude::*;

        #[test]
        fn a_token_hash_is_the_hex_sha256_of_its_text() {
            let token = Token::parse(&"A".repeat(43)).unwrap();
            let hash = token.hash();
            assert_eq!(
                hash.as_str(),
                "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a"
            );
            assert_eq!(TokenHash::from_stored(hash.as_str().to_owned()), hash);
        }

        #[test]
        fn generated_tokens_are_distinct() {
            assert_ne!(Token::generate(), Token::generate());
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn a_generated_token_parses_back_to_itself(_ in 0..1u8) {
                let token = Token::generate();
                prop_assert_eq!(token.as_str().len(), Token::LEN);
                prop_assert_eq!(Token::parse(token.as_str()), Ok(token.clone()));
            }

            #[test]
            fn different_tokens_have_different_hashes(
                a in "[A-Za-z0-9_-]{43}",
                b in "[A-Za-z0-9_-]{43}",
            ) {
                prop_assume!(a != b);
                let (a, b) = (Token::parse(&a).unwrap(), Token::parse(&b).unwrap());
                prop_assert_ne!(a.hash(), b.hash());
            }
        }
    }
}
