//! The outbox: mail written with its cause, claimed and sent by a worker, retried with
//! backoff, and emptied of its recipient and body (which holds a live token) once sent
//! or failed: the outbox is no list of who signed. A mail the relay refuses for good
//! (SMTP 5xx) fails after [`PERMANENT_TRIES`]; one that cannot reach the relay is tried
//! for as long as its link works (`MailLimits::retry_days`).

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
use crate::{domain::clock::Clock, entities::outbox, store::db};

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

/// How long a worker holds a claimed mail before another may take it over: longer than
/// a batch can take against a slow relay (two waves of sends, each command of which may
/// wait 15 s), so no mail is sent twice.
const CLAIM: chrono::Duration = chrono::Duration::seconds(300);
/// Two waves of `Mailer::IN_FLIGHT`.
const BATCH: u64 = 2 * Mailer::IN_FLIGHT as u64;
/// Mail nobody is waiting on goes after the rest: under a flood of signers their
/// confirmation links go first, and the receipts follow as the outbox catches up.
const WAIT_THEIR_TURN: [&str; 2] = ["receipt", "announcement"];

/// Tries of a mail the relay refuses for good, in case the refusal was a mistake of the
/// moment (a full mailbox, a relay's misconfiguration fixed minutes later).
pub const PERMANENT_TRIES: i32 = 3;

/// What to do with a mail after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFailure {
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// A refusal for good is tried [`PERMANENT_TRIES`] times; a relay out of reach is
/// tried until `retry_days` after the mail was written, when its link has expired.
fn after_failure(
    permanent: bool,
    attempts: i32,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    retry_days: u32,
) -> AfterFailure {
    let expired = now >= created_at + chrono::Duration::days(i64::from(retry_days));
    if (permanent && attempts >= PERMANENT_TRIES) || expired {
        AfterFailure::GiveUp
    } else {
        AfterFailure::RetryAt(now + backoff(attempts))
    }
}

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
    /// The time the batch was chosen and the ceiling judged at.
    pub at: DateTime<Utc>,
}

/// Sends every mail that is due by `clock` (up to a batch), `Mailer::IN_FLIGHT` at once:
/// an SMTP exchange is a string of round trips (and lettre's end of data waits out a
/// delayed ACK, 40 ms even on loopback), so one at a time would cap the outbox at a few
/// dozen mails a second. The batch is claimed in one conditional update, so several
/// workers (or processes) never send the same mail at once, and taken from the
/// per-minute ceiling together. A mail being sent is always finished and recorded, even
/// when another fails; what went is recorded a wave at a time. (Should that record fail,
/// the mail goes again once its claim lapses: twice rather than never.)
pub async fn send_due(
    db: &DatabaseConnection,
    mailer: &Mailer,
    limits: MailLimits,
    clock: &Clock,
    keep_going: impl Fn() -> bool,
) -> Result<SendReport, DbErr> {
    use futures_util::StreamExt;
    let now = clock.now();
    let mut report = SendReport {
        at: now,
        ..SendReport::default()
    };
    let claimable = || {
        outbox::Column::ClaimedUntil
            .is_null()
            .or(outbox::Column::ClaimedUntil.lt(now))
    };
    let due: Vec<i64> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(claimable())
        .order_by(
            Into::<Expr>::into(
                Expr::case(outbox::Column::Kind.is_in(WAIT_THEIR_TURN), 1).finally(0),
            ),
            sea_orm::Order::Asc,
        )
        .order_by_asc(outbox::Column::Id)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(report);
    }
    let claim = now + CLAIM;
    // Each of the outbox's writes waits its turn among the signers' (on SQLite).
    let turn = db::write_turn(db).await?;
    let mut claimed = outbox::Entity::update_many()
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(claim))
        .filter(outbox::Column::Id.is_in(due))
        .filter(outbox::Column::SentAt.is_null())
        .filter(claimable())
        .exec_with_returning(db)
        .await?;
    drop(turn);
    // In the order they were chosen: what the ceiling holds back is the last of them.
    claimed.sort_by_key(|mail| (WAIT_THEIR_TURN.contains(&mail.kind.as_str()), mail.id));
    // Over the ceiling every process shares: as many as it allows go, the rest wait.
    let allowed = match allowance(db, now, limits, claimed.len()).await {
        Ok(allowed) => allowed,
        Err(err) => {
            let _ = release(db, claimed.iter().map(|mail| mail.id).collect()).await;
            return Err(err);
        }
    };
    if allowed < claimed.len() {
        release(db, claimed.drain(allowed..).map(|mail| mail.id).collect()).await?;
        report.delayed = true;
        tracing::info!("the mail ceiling is reached; mail waits for the next minute");
    }
    // The sends only send: every write is made here, between them, so no send holds the
    // writers' turn while the loop waits for one (on SQLite that would wait out the turn).
    let mut outcomes = futures_util::stream::iter(claimed)
        .map(|mail| async {
            if !keep_going() {
                return Sent::NotBegun(mail.id);
            }
            send_one(mailer, mail).await
        })
        .buffer_unordered(Mailer::IN_FLIGHT);
    let mut first_error = None;
    let mut unsent = Vec::new();
    let mut sent = Vec::new();
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Sent::Yes(id) => sent.push(id),
            Sent::Unsendable => report.failed += 1,
            Sent::Failed(failure) => {
                report.failed += 1;
                if let Err(err) = record_failure(db, clock, claim, failure, limits).await {
                    first_error.get_or_insert(err);
                }
            }
            Sent::NotBegun(id) => unsent.push(id),
        }
        // Recorded a wave at a time: one write instead of one per mail, which on SQLite
        // all queue for the one writer behind the signers.
        if sent.len() == Mailer::IN_FLIGHT {
            match mark_sent(db, std::mem::take(&mut sent), clock).await {
                Ok(count) => report.sent += count,
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
    }
    match mark_sent(db, sent, clock).await {
        Ok(count) => report.sent += count,
        Err(err) => {
            first_error.get_or_insert(err);
        }
    }
    // Stopping: what was not begun is given back for the next worker to take at once.
    if !unsent.is_empty() {
        release(db, unsent).await?;
    }
    match first_error {
        Some(err) => Err(err),
        None => Ok(report),
    }
}

/// What became of one claimed mail.
enum Sent {
    Yes(i64),
    /// The relay refused it or could not be reached: it is tried again later.
    Failed(Failure),
    /// It has no body to send (already forgotten).
    Unsendable,
    NotBegun(i64),
}

/// A mail that did not go, and why.
struct Failure {
    id: i64,
    kind: String,
    attempts: i32,
    error: String,
    /// The relay refused it for good.
    permanent: bool,
    created_at: DateTime<Utc>,
}

/// Records mail as sent and forgets its recipient and bodies (the bodies hold live
/// tokens, and together the recipients would say who signed). Tried three
/// times: mail recorded as unsent goes again once its claim lapses.
async fn mark_sent(db: &DatabaseConnection, ids: Vec<i64>, clock: &Clock) -> Result<usize, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut tries = 0;
    loop {
        let recorded = record_sent(db, &ids, clock.now()).await;
        tries += 1;
        match recorded {
            Ok(()) => return Ok(ids.len()),
            Err(err) if tries == 3 => return Err(err),
            Err(err) => {
                tracing::warn!(error = %err, "could not record sent mail; trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// One try at recording mail as sent.
async fn record_sent(
    db: &DatabaseConnection,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let _turn = db::write_turn(db).await?;
    outbox::Entity::update_many()
        .col_expr(outbox::Column::SentAt, Expr::value(now))
        .col_expr(outbox::Column::Recipient, Expr::value(""))
        .col_expr(
            outbox::Column::BodyText,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::BodyHtml,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(outbox::Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Gives claimed mail back unsent.
async fn release(db: &DatabaseConnection, ids: Vec<i64>) -> Result<(), DbErr> {
    let _turn = db::write_turn(db).await?;
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}

/// How many of `wanted` mails this minute's ceiling lets go: all at once when it can,
/// else one by one until it is full.
async fn allowance(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limits: MailLimits,
    wanted: usize,
) -> Result<usize, DbErr> {
    let _turn = db::write_turn(db).await?;
    if wanted == 0 || quota::take_ceiling(db, now, limits, wanted as u32).await? {
        return Ok(wanted);
    }
    let mut allowed = 0;
    while allowed < wanted && quota::take_ceiling(db, now, limits, 1).await? {
        allowed += 1;
    }
    Ok(allowed)
}

/// Sends one claimed mail; the caller records what became of it.
async fn send_one(mailer: &Mailer, mail: outbox::Model) -> Sent {
    let (Some(text), Some(html)) = (mail.body_text, mail.body_html) else {
        return Sent::Unsendable;
    };
    match mailer
        .send(&mail.recipient, &mail.subject, &text, &html)
        .await
    {
        Ok(()) => {
            tracing::info!(id = mail.id, kind = mail.kind, "mail sent");
            Sent::Yes(mail.id)
        }
        Err(err) => Sent::Failed(Failure {
            id: mail.id,
            kind: mail.kind,
            attempts: mail.attempts + 1,
            error: err.summary(),
            permanent: err.is_permanent(),
            created_at: mail.created_at,
        }),
    }
}

/// Records a failed attempt and when to try again, or that the mail failed for good
/// (emptied as sent mail is), unless another worker has taken the mail over meanwhile.
async fn record_failure(
    db: &DatabaseConnection,
    clock: &Clock,
    claim: DateTime<Utc>,
    failure: Failure,
    limits: MailLimits,
) -> Result<(), DbErr> {
    // The batch may have taken a while: the retry is timed from now.
    let now = clock.now();
    let after = after_failure(
        failure.permanent,
        failure.attempts,
        failure.created_at,
        now,
        limits.retry_days,
    );
    let _turn = db::write_turn(db).await?;
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(failure.attempts))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Some(failure.error.clone())),
        );
    update = match after {
        AfterFailure::RetryAt(at) => {
            update.col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
        }
        AfterFailure::GiveUp => update
            .col_expr(outbox::Column::FailedAt, Expr::value(Some(now)))
            .col_expr(outbox::Column::Recipient, Expr::value(""))
            .col_expr(
                outbox::Column::BodyText,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                outbox::Column::BodyHtml,
                Expr::value(Option::<String>::None),
            ),
    };
    update
        .filter(outbox::Column::Id.eq(failure.id))
        .filter(outbox::Column::ClaimedUntil.eq(claim))
        .exec(db)
        .await?;
    match after {
        AfterFailure::RetryAt(_) => tracing::warn!(
            id = failure.id,
            kind = failure.kind,
            attempts = failure.attempts,
            error = failure.error,
            "mail not sent; will retry"
        ),
        AfterFailure::GiveUp => tracing::error!(
            id = failure.id,
            kind = failure.kind,
            attempts = failure.attempts,
            error = failure.error,
            "mail failed for good; shown to admins"
        ),
    }
    Ok(())
}

/// Mail that failed for good, newest first, for admins: what it was, when, how often it
/// was tried and why it failed; never to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMail {
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub failed_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: String,
}

/// The count of failed mail and the newest `limit` of it.
pub async fn failed(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<(u64, Vec<FailedMail>), DbErr> {
    use sea_orm::PaginatorTrait;
    let count = outbox::Entity::find()
        .filter(outbox::Column::FailedAt.is_not_null())
        .count(db)
        .await?;
    let newest = outbox::Entity::find()
        .filter(outbox::Column::FailedAt.is_not_null())
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|mail| FailedMail {
            kind: mail.kind,
            created_at: mail.created_at,
            failed_at: mail.failed_at.unwrap_or(mail.created_at),
            attempts: mail.attempts,
            last_error: mail.last_error.unwrap_or_default(),
        })
        .collect();
    Ok((count, newest))
}

/// How long until the next minute's ceiling opens.
fn until_next_minute(now: DateTime<Utc>) -> Duration {
    let into = now.timestamp_millis().rem_euclid(60_000) as u64;
    Duration::from_millis(60_000 - into)
}

/// Runs until `shutdown` turns true: sends due mail whenever woken, and at least every
/// second (another process may have written mail, or a retry may be due). On shutdown it
/// finishes the mail in hand, then returns; the rest stays in the outbox. The minute's
/// ceiling is read on `clock`; a move of the clock ends a wait for the next minute.
pub async fn run_worker(
    db: DatabaseConnection,
    mailer: Arc<Mailer>,
    limits: MailLimits,
    clock: Clock,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut moves = clock.moves();
    let mut last_cleanup = std::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_cleanup.elapsed() > Duration::from_secs(600) {
            last_cleanup = std::time::Instant::now();
            if let Err(err) = quota::forget_old(&db, clock.now()).await {
                tracing::warn!(error = %err, "could not clear old mail counters");
            }
        }
        // A move from here on ends a wait for the next minute.
        moves.mark_unchanged();
        let running = || !*shutdown.borrow();
        let mut pause = Duration::from_secs(1);
        match send_due(&db, &mailer, limits, &clock, running).await {
            // Over the ceiling: nothing more goes this minute, whoever wakes the worker.
            // (The minute the ceiling was judged in, however long the sends took.)
            Ok(report) if report.delayed => pause = until_next_minute(report.at),
            Ok(report) if report.sent + report.failed == BATCH as usize => continue,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "outbox worker could not read the outbox"),
        }
        if pause > Duration::from_secs(1) {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = moves.changed() => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("outbox worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_for_good_is_tried_a_few_times_then_fails() {
        let now = Utc::now();
        for attempts in 1..PERMANENT_TRIES {
            assert!(matches!(
                after_failure(true, attempts, now, now, 7),
                AfterFailure::RetryAt(_)
            ));
        }
        assert_eq!(
            after_failure(true, PERMANENT_TRIES, now, now, 7),
            AfterFailure::GiveUp
        );
    }

    #[test]
    fn a_relay_out_of_reach_is_tried_until_the_link_expires() {
        let written = Utc::now();
        let later = |days| written + chrono::Duration::days(days);
        assert_eq!(
            after_failure(false, 500, written, later(6), 7),
            AfterFailure::RetryAt(later(6) + backoff(500))
        );
        assert_eq!(
            after_failure(false, 501, written, later(7), 7),
            AfterFailure::GiveUp
        );
    }
}
