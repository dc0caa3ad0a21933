//! A local's member count, the denominator of its share: set by its officer (or an
//! admin) with the date it was true on. Every value is kept in the history with who
//! recorded it, and every change is audited, in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};
use serde_json::json;

use crate::{
    access::{self, Caller},
    accounts::audit_entry,
    db,
    entities::{local, member_count},
};

/// The most members a local can have: larger is a typing mistake.
pub const MAX_MEMBERS: i64 = 10_000_000;

#[derive(Debug, thiserror::Error)]
pub enum MemberCountError {
    #[error("no such local")]
    UnknownLocal,
    #[error("only the local's officers and admins set its member count")]
    Forbidden,
    #[error("the member count is a whole number from 1 to {MAX_MEMBERS}")]
    Invalid,
    #[error("the date is in the future")]
    FutureDate,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Sets a local's member count as of a date.
pub async fn set_member_count(
    db: &DatabaseConnection,
    caller: &Caller,
    local_id: i64,
    count: i64,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), MemberCountError> {
    if !access::keeps_local(caller, local_id) {
        return Err(MemberCountError::Forbidden);
    }
    if !(1..=MAX_MEMBERS).contains(&count) {
        return Err(MemberCountError::Invalid);
    }
    if as_of > now.date_naive() {
        return Err(MemberCountError::FutureDate);
    }
    let txn = db::begin_write(db).await?;
    let before = local::Entity::find_by_id(local_id)
        .one(&txn)
        .await?
        .ok_or(MemberCountError::UnknownLocal)?;
    local::Entity::update_many()
        .col_expr(local::Column::MemberCount, Expr::value(count))
        .col_expr(local::Column::MemberCountAsOf, Expr::value(as_of))
        .filter(local::Column::Id.eq(local_id))
        .exec(&txn)
        .await?;
    member_count::Entity::insert(member_count::ActiveModel {
        local_id: Set(local_id),
        member_count: Set(count),
        as_of: Set(as_of),
        recorded_at: Set(now),
        recorded_by: Set(caller.label()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    audit_entry(
        &txn,
        &caller.label(),
        "local.member_count",
        json!({
            "local": local_id,
            "from": before.member_count,
            "to": count,
            "as_of": as_of.to_string(),
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A local's member counts, newest first.
pub async fn history(
    db: &impl ConnectionTrait,
    local_id: i64,
) -> Result<Vec<member_count::Model>, DbErr> {
    member_count::Entity::find()
        .filter(member_count::Column::LocalId.eq(local_id))
        .order_by_desc(member_count::Column::RecordedAt)
        .order_by_desc(member_count::Column::Id)
        .all(db)
        .await
}
