//! What any server function can fail with, whatever it was asked: the base every form's
//! error carries as its `Failed` variant. The guard writes `TooMany` in this shape before
//! a function runs, so every form reads a refusal at the door the same way.

use leptos::server_fn::error::ServerFnErrorErr;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum Failure {
    #[error("too many attempts from your connection; please try again in {} minutes", retry_after_secs.div_ceil(60))]
    TooMany { retry_after_secs: u64 },
    #[error("something went wrong on our side")]
    Unexpected,
    #[error("the request could not be sent: {0}")]
    Transport(ServerFnErrorErr),
}

/// A form's error type: its own refusals plus [`Failure`], decoded from the wire as the
/// server function's error.
macro_rules! form_error {
    ($name:ident) => {
        impl leptos::server_fn::error::FromServerFnError for $name {
            type Encoder = leptos::server_fn::codec::JsonEncoding;
            fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
                Self::Failed($crate::failure::Failure::Transport(value))
            }
        }

        impl From<$crate::failure::Failure> for $name {
            fn from(failure: $crate::failure::Failure) -> Self {
                Self::Failed(failure)
            }
        }

        impl $name {
            /// Something went wrong on our side; the cause goes to the log, not the page.
            #[cfg(feature = "ssr")]
            pub fn unexpected(err: impl std::fmt::Debug) -> Self {
                tracing::error!(error = ?err, form = stringify!($name), "a server function failed");
                Self::Failed($crate::failure::Failure::Unexpected)
            }
        }
    };
}
pub(crate) use form_error;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account_fns::AccountFormError;
    use crate::server_fns::{ConfirmFormError, SignFormError, WithdrawFormError};

    #[test]
    fn every_form_reads_the_guards_refusal_alike() {
        let wire = serde_json::to_string(&SignFormError::Failed(Failure::TooMany {
            retry_after_secs: 90,
        }))
        .unwrap();
        let want = Failure::TooMany {
            retry_after_secs: 90,
        };
        assert_eq!(
            serde_json::from_str::<ConfirmFormError>(&wire).unwrap(),
            ConfirmFormError::Failed(want.clone())
        );
        assert_eq!(
            serde_json::from_str::<WithdrawFormError>(&wire).unwrap(),
            WithdrawFormError::Failed(want.clone())
        );
        assert_eq!(
            serde_json::from_str::<AccountFormError>(&wire).unwrap(),
            AccountFormError::Failed(want)
        );
    }
}
