//! Mail: what each mail says, the outbox it waits in, and the worker that sends it.
//!
//! A mail is written to the outbox in the same transaction as its cause, so a mail
//! server that is down, or a process that dies, delays mail and loses none.

mod outbox;
pub mod quota;
mod templates;
mod transport;

pub use outbox::{
    FailedMail, MailDraft, PERMANENT_TRIES, SendReport, enqueue, failed, run_worker, send_due,
};
pub use quota::MailLimits;
pub use templates::{
    AnnouncementNews, ReceiptDetails, account_locked, already_signed, announcement,
    confirm_request, entered_on_paper, invitation, receipt,
};
pub use transport::{MailError, Mailer};
