//! How mail leaves: over SMTP, into `.eml` files in a folder, or only into the log.

use std::path::PathBuf;
use std::time::Duration;

use email_encoding::body::Encoding;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Body, Mailbox, MultiPart, header::ContentTransferEncoding},
    transport::smtp::PoolConfig,
};

/// The configured way out, chosen by `MAIL_URL`.
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    /// Development only: log the links of file mail, so a laptop needs no mail reader.
    log_links: bool,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder: the laptop default.
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
    /// Only a log line naming the recipient's domain and the subject.
    Log,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("MAIL_URL {0:?} is not smtp://, smtps://, file:///dir or log")]
    UnknownUrl(String),
    #[error("mail sender address {0:?} is not valid")]
    BadFrom(String),
    #[error("recipient address is not valid")]
    BadRecipient,
    #[error("cannot prepare mail folder {path}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error(transparent)]
    File(#[from] lettre::transport::file::Error),
    #[error(transparent)]
    Build(#[from] lettre::error::Error),
}

impl MailError {
    /// The relay refused the mail for good (an SMTP 5xx), or it could never go: trying
    /// again a few times is all that can help. A relay out of reach is not permanent.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Smtp(err) => err.is_permanent(),
            MailError::BadRecipient => true,
            _ => false,
        }
    }

    /// What went wrong, without the server's words: an SMTP reply often quotes the
    /// recipient's address, which belongs in no log and no outbox row.
    pub fn summary(&self) -> String {
        match self {
            MailError::Smtp(err) => match err.status() {
                Some(code) => format!(
                    "SMTP {} error {code}",
                    if err.is_permanent() {
                        "permanent"
                    } else {
                        "transient"
                    }
                ),
                None if err.is_timeout() => "SMTP timeout".to_owned(),
                None => "SMTP connection failed".to_owned(),
            },
            MailError::File(_) => "could not write the mail file".to_owned(),
            MailError::BadRecipient => "recipient address is not valid".to_owned(),
            other => other.to_string(),
        }
    }
}

impl Mailer {
    /// Mails the outbox sends at once, and so the SMTP connections kept open.
    pub const IN_FLIGHT: usize = 16;

    /// Builds the mailer from `MAIL_URL` (`smtp://`, `smtps://`, `file:///dir`, `log`).
    pub fn from_url(url: &str, from: &str) -> Result<Self, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| MailError::BadFrom(from.to_owned()))?;
        let transport = if url.starts_with("smtp://") || url.starts_with("smtps://") {
            Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(Duration::from_secs(15)))
                    .pool_config(PoolConfig::new().max_size(Self::IN_FLIGHT as u32))
                    .build(),
            )
        } else if let Some(path) = url.strip_prefix("file://") {
            let path = PathBuf::from(path);
            std::fs::create_dir_all(&path).map_err(|source| MailError::Folder {
                path: path.clone(),
                source,
            })?;
            Transport::File(AsyncFileTransport::new(&path), path)
        } else if url == "log" {
            Transport::Log
        } else {
            return Err(MailError::UnknownUrl(url.to_owned()));
        };
        Ok(Self {
            from,
            transport,
            log_links: false,
        })
    }

    /// In development, also log the links in mail written to files. Never in
    /// production: links carry live tokens.
    pub fn log_links_in_development(mut self, development: bool) -> Self {
        self.log_links = development && matches!(self.transport, Transport::File(..));
        self
    }

    /// Where file mail lands, if mail goes to files.
    pub fn folder(&self) -> Option<&PathBuf> {
        match &self.transport {
            Transport::File(_, path) => Some(path),
            _ => None,
        }
    }

    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::BadRecipient)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(body(text), body(html)))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::File(file, _) => {
                if self.log_links {
                    for link in text.split_whitespace().filter(|w| w.starts_with("http")) {
                        tracing::info!(%link, "development: link in mail to {}", to.email);
                    }
                }
                file.send(message).await?;
            }
            Transport::Log => {
                tracing::info!(domain = to.email.domain(), subject, "mail (MAIL_URL=log)");
            }
        }
        Ok(())
    }
}

/// A text part's body, encoded byte for byte as lettre's `Body::new` encodes it, in fewer
/// instructions: lettre makes line ends CRLF by walking the text backwards a character
/// at a time and inserting each `\r` on its own, 4% of a confirmation's work; here that
/// is one pass forwards.
fn body(text: &str) -> Body {
    // Chosen on the text as written, as lettre chooses (no SMTPUTF8: never 8bit).
    match Encoding::choose(text, false) {
        Encoding::SevenBit => Body::dangerous_pre_encoded(
            crlf_line_endings(text).into_bytes(),
            ContentTransferEncoding::SevenBit,
        ),
        Encoding::QuotedPrintable => Body::dangerous_pre_encoded(
            quoted_printable::encode(crlf_line_endings(text)),
            ContentTransferEncoding::QuotedPrintable,
        ),
        Encoding::EightBit | Encoding::Base64 => Body::new(text.to_owned()),
    }
}

/// Every `\n` made `\r\n`, and every `\r\n` left as it was.
fn crlf_line_endings(text: &str) -> String {
    let mut crlf = String::with_capacity(text.len() + text.len() / 32);
    for line in text.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(line) => {
                crlf.push_str(line.strip_suffix('\r').unwrap_or(line));
                crlf.push_str("\r\n");
            }
            None => crlf.push_str(line),
        }
    }
    crlf
}

#[cfg(test)]
mod tests {
    use lettre::message::Body;
    use proptest::prelude::*;

    use super::body;

    /// Text as mail bodies hold it: words, accents, spaces and tabs at line ends, lines
    /// long and short, and every kind of line end.
    fn mail_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                4 => "[a-zA-Z0-9 .,=]{1,90}",
                1 => Just("\n".to_owned()),
                1 => Just("\r\n".to_owned()),
                1 => Just("\r".to_owned()),
                1 => Just(" \t".to_owned()),
                1 => "[áéñü€✊ ]{1,5}",
            ],
            0..40,
        )
        .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn a_body_is_encoded_as_lettre_encodes_it(text in mail_text()) {
            let ours = body(&text);
            let lettres = Body::new(text);
            prop_assert_eq!(ours.encoding(), lettres.encoding());
            prop_assert_eq!(ours.as_ref(), lettres.as_ref());
        }
    }

    #[test]
    fn a_receipt_like_body_is_quoted_printable_with_crlf_line_ends() {
        let text = format!("Hello Ana,\n\n{}\n\nÁ bientôt\n", "word ".repeat(40));
        let ours = body(&text);
        assert_eq!(ours.encoding(), Body::new(text.clone()).encoding());
        assert_eq!(
            ours.encoding(),
            lettre::message::header::ContentTransferEncoding::QuotedPrintable
        );
        let encoded = std::str::from_utf8(ours.as_ref()).unwrap();
        assert!(encoded.starts_with("Hello Ana,\r\n\r\n"));
        assert!(encoded.ends_with("=C3=81 bient=C3=B4t\r\n"));
    }
}
