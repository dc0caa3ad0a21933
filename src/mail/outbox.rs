//! The outbox: mail written with its cause, claimed and sent by a worker, retried with
//! backoff, and emptied of its body (which holds a live token) once sent.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use tokio::sync::{Notify, watch};

use super::{MailLimits, Mailer, quota};
use crate::entities::outbox;

/// A mail ready to go into the outbox.
pub struct MailDraft {
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MailDraft {
    pub(super) fn new(
        kind: &'static str,
        to: &str,
        subject: String,
        text: String,
        html: String,
    ) -> Self {
        Self {
            kind,
            to: to.to_owned(),
            subject,
            text,
            html,
        }
    }
}

/// Puts a mail in the outbox. Call it inside the transaction of the change it reports.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    draft: MailDraft,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    outbox::Entity::insert(outbox::ActiveModel {
        kind: Set(draft.kind.to_owned()),
        recipient: Set(draft.to),
        subject: Set(draft.subject),
        body_text: Set(Some(draft.text)),
        body_html: Set(Some(draft.html)),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// How long a worker holds a claimed mail before another may take it over.
const CLAIM: chrono::Duration = chrono::Duration::seconds(120);
const BATCH: u64 = 50;

fn backoff(attempts: i32) -> chrono::Duration {
    // 2 s, 4 s, 8 s, ... up to 10 minutes: a mail server that is down for an hour is
    // retried a few times an hour, not hammered.
    let seconds = std::cmp::min(2_i64.saturating_pow(attempts.clamp(1, 20) as u32), 600);
    chrono::Duration::seconds(seconds)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub failed: usize,
    /// The per-minute ceiling stopped the batch.
    pub delayed: bool,
}

/// Sends every mail that is due at `now`. Each mail is claimed first with a conditional
/// update, so several workers (or processes) never send the same mail at once.
pub async fn send_due(
    db: &DatabaseConnection,
    mailer: &Mailer,
    limits: MailLimits,
    now: DateTime<Utc>,
    keep_going: impl Fn() -> bool,
) -> Result<SendReport, DbErr> {
    let mut report = SendReport::default();
    let due = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(
            outbox::Column::ClaimedUntil
                .is_null()
                .or(outbox::Column::ClaimedUntil.lt(now)),
        )
        .order_by_asc(outbox::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    for mail in due {
        if !keep_going() {
            break;
        }
        // The batch may take a while: each claim and retry is timed when it happens.
        let now = std::cmp::max(Utc::now(), now);
        let claimed = outbox::Entity::update_many()
            .col_expr(outbox::Column::ClaimedUntil, Expr::value(now + CLAIM))
            .filter(outbox::Column::Id.eq(mail.id))
            .filter(outbox::Column::SentAt.is_null())
            .filter(
                outbox::Column::ClaimedUntil
                    .is_null()
                    .or(outbox::Column::ClaimedUntil.lt(now)),
            )
            .exec(db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        // Over the ceiling every process shares: this mail and the rest wait.
        if !quota::take_ceiling(db, now, limits).await? {
            outbox::Entity::update_many()
                .col_expr(
                    outbox::Column::ClaimedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(outbox::Column::Id.eq(mail.id))
                .exec(db)
                .await?;
            report.delayed = true;
            tracing::info!("the mail ceiling is reached; mail waits for the next minute");
            break;
        }
        let (Some(text), Some(html)) = (mail.body_text, mail.body_html) else {
            continue;
        };
        match mailer
            .send(&mail.recipient, &mail.subject, text, html)
            .await
        {
            Ok(()) => {
                outbox::Entity::update_many()
                    .col_expr(outbox::Column::SentAt, Expr::value(Utc::now()))
                    .col_expr(
                        outbox::Column::BodyText,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(
                        outbox::Column::BodyHtml,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(outbox::Column::Attempts, Expr::value(mail.attempts + 1))
                    .col_expr(
                        outbox::Column::LastError,
                        Expr::value(Option::<String>::None),
                    )
                    .filter(outbox::Column::Id.eq(mail.id))
                    .exec(db)
                    .await?;
                report.sent += 1;
                tracing::info!(id = mail.id, kind = mail.kind, "mail sent");
            }
            Err(err) => {
                let attempts = mail.attempts + 1;
                outbox::Entity::update_many()
                    .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                    .col_expr(
                        outbox::Column::NextAttemptAt,
                        Expr::value(now + backoff(attempts)),
                    )
                    .col_expr(
                        outbox::Column::ClaimedUntil,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(outbox::Column::LastError, Expr::value(Some(err.summary())))
                    .filter(outbox::Column::Id.eq(mail.id))
                    .exec(db)
                    .await?;
                report.failed += 1;
                tracing::warn!(
                    id = mail.id,
                    kind = mail.kind,
                    attempts,
                    error = err.summary(),
                    "mail not sent; will retry"
                );
            }
        }
    }
    Ok(report)
}

/// Runs until `shutdown` turns true: sends due mail whenever woken, and at least every
/// second (another process may have written mail, or a retry may be due). On shutdown it
/// finishes the mail in hand, then returns; the rest stays in the outbox.
pub async fn run_worker(
    db: DatabaseConnection,
    mailer: Arc<Mailer>,
    limits: MailLimits,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_cleanup = std::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_cleanup.elapsed() > Duration::from_secs(600) {
            last_cleanup = std::time::Instant::now();
            if let Err(err) = quota::forget_old(&db, Utc::now()).await {
                tracing::warn!(error = %err, "could not clear old mail counters");
            }
        }
        let running = || !*shutdown.borrow();
        match send_due(&db, &mailer, limits, Utc::now(), running).await {
            Ok(report) if report.sent == BATCH as usize => continue,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "outbox worker could not read the outbox"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("outbox worker stopped");
}
