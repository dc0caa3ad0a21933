//! Limits on mail that hold across processes, kept in the database: a few mails per
//! mailbox per hour (nobody can use us to bomb an inbox), and a ceiling on all mail sent
//! per minute (the sender's reputation). The first refuses a mail; the second only
//! delays it.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use crate::{
    domain::text::sha256_hex,
    entities::{mail_ceiling, mail_quota},
};

/// Mail limits, from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailLimits {
    /// Mails to one mailbox (its canonical address) per hour.
    pub per_mailbox_per_hour: u32,
    /// Mails sent by every process together per minute.
    pub per_minute: u32,
    /// How long a mail that cannot reach the relay is retried: as long as the link it
    /// carries works (a confirmation's), after which sending it helps nobody.
    pub retry_days: u32,
}

impl Default for MailLimits {
    fn default() -> Self {
        Self {
            per_mailbox_per_hour: 5,
            per_minute: 3000,
            retry_days: 7,
        }
    }
}

fn window(now: DateTime<Utc>, length: TimeDelta) -> DateTime<Utc> {
    now.duration_trunc(length).unwrap_or(now)
}

/// Adds `amount` to a counter row unless that would take it past `limit`; true if it
/// did add. The row's first value (in `insert`) is `amount` itself.
async fn take(
    db: &impl ConnectionTrait,
    insert: &mut sea_orm::sea_query::InsertStatement,
    mut conflict: OnConflict,
    count: impl sea_orm::sea_query::IntoIden + Copy,
    table: impl sea_orm::sea_query::IntoIden + Copy,
    limit: u32,
    amount: u32,
) -> Result<bool, DbErr> {
    if amount > limit {
        return Ok(false);
    }
    conflict
        .value(count, Expr::col((table, count)).add(i64::from(amount)))
        .action_and_where(Expr::col((table, count)).lte(i64::from(limit) - i64::from(amount)));
    insert.on_conflict(conflict).returning_col(count);
    let statement = db.get_database_backend().build(&*insert);
    Ok(db.query_one_raw(statement).await?.is_some())
}

/// Takes one mail from a mailbox's hourly allowance on one campaign: false when it is
/// used up. Per campaign, so that strangers signing a worker's address on one campaign
/// cannot use up the mails of the worker's own signing on another. Call it in the
/// transaction that writes the mail, so a rollback gives the mail back.
pub async fn take_mailbox(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    canonical_email: &str,
    now: DateTime<Utc>,
    limits: MailLimits,
) -> Result<bool, DbErr> {
    let hash = sha256_hex(&[&campaign_id.to_be_bytes(), b":", canonical_email.as_bytes()]);
    let mut insert = Query::insert()
        .into_table(mail_quota::Entity)
        .columns([
            mail_quota::Column::MailboxHash,
            mail_quota::Column::WindowStart,
            mail_quota::Column::Count,
        ])
        .values_panic([
            hash.into(),
            window(now, TimeDelta::hours(1)).into(),
            1.into(),
        ])
        .to_owned();
    take(
        db,
        &mut insert,
        OnConflict::columns([
            mail_quota::Column::MailboxHash,
            mail_quota::Column::WindowStart,
        ]),
        mail_quota::Column::Count,
        mail_quota::Entity,
        limits.per_mailbox_per_hour,
        1,
    )
    .await
}

/// Takes `mails` from this minute's ceiling, all or none: false when every process
/// together would pass its fill, and the mails should wait for the next minute.
pub async fn take_ceiling(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limits: MailLimits,
    mails: u32,
) -> Result<bool, DbErr> {
    let mut insert = Query::insert()
        .into_table(mail_ceiling::Entity)
        .columns([
            mail_ceiling::Column::WindowStart,
            mail_ceiling::Column::Count,
        ])
        .values_panic([window(now, TimeDelta::minutes(1)).into(), mails.into()])
        .to_owned();
    take(
        db,
        &mut insert,
        OnConflict::column(mail_ceiling::Column::WindowStart),
        mail_ceiling::Column::Count,
        mail_ceiling::Entity,
        limits.per_minute,
        mails,
    )
    .await
}

/// Forgets counters of windows long past.
pub async fn forget_old(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
    mail_quota::Entity::delete_many()
        .filter(mail_quota::Column::WindowStart.lt(now - TimeDelta::hours(2)))
        .exec(db)
        .await?;
    mail_ceiling::Entity::delete_many()
        .filter(mail_ceiling::Column::WindowStart.lt(now - TimeDelta::minutes(10)))
        .exec(db)
        .await?;
    Ok(())
}
