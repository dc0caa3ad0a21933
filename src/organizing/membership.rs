//! A local's member count, the denominator of its share: set by its officer (or an
//! admin) with the date it was true on. Every value is kept in the history with who
//! recorded it, and every change is audited, in one transaction. Admins also import
//! unions and locals from the locals CSV here, as the command line does.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};
use serde_json::json;

use crate::{
    accounts::access::{self, Caller},
    audit::audit_entry,
    entities::{local, member_count},
    store::db,
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
    // A pledge that has opened keeps the count it froze until an organizer accepts this.
    crate::pledges::propose_member_count(&txn, local_id, count, &caller.label(), now).await?;
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

#[derive(Debug, thiserror::Error)]
pub enum ImportLocalsError {
    #[error("only admins import unions and locals")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// An admin imports unions and locals from the locals CSV (docs/formats.md), as
/// `rollcall locals import` does; audited with who did it.
pub async fn import_locals(
    db: &DatabaseConnection,
    caller: &Caller,
    csv_text: &str,
    now: DateTime<Utc>,
) -> Result<crate::organizing::import::LocalsImported, ImportLocalsError> {
    if !caller.is_admin() {
        return Err(ImportLocalsError::Forbidden);
    }
    let report = crate::organizing::import::import_locals(db, csv_text, now)
        .await
        .map_err(|err| match err {
            crate::organizing::import::ImportError::Database(err) => ImportLocalsError::Db(err),
            other => ImportLocalsError::Invalid(other.to_string()),
        })?;
    audit_entry(
        db,
        &caller.label(),
        "locals.import",
        json!({
            "unions_created": report.unions_created,
            "locals_created": report.locals_created,
            "locals_updated": report.locals_updated,
        }),
        now,
    )
    .await?;
    Ok(report)
}

/// Every union with how many locals it has and their members, for the admin page.
pub async fn unions_overview(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> Result<Vec<crate::views::UnionLine>, ImportLocalsError> {
    use crate::entities::union;
    if !caller.is_admin() {
        return Err(ImportLocalsError::Forbidden);
    }
    let locals = local::Entity::find().all(db).await?;
    Ok(union::Entity::find()
        .order_by_asc(union::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|u| {
            let own: Vec<&local::Model> = locals.iter().filter(|l| l.union_id == u.id).collect();
            crate::views::UnionLine {
                slug: u.slug,
                name: u.name,
                locals: own.len() as u64,
                members: own
                    .iter()
                    .filter_map(|l| l.member_count)
                    .map(crate::store::tally::non_negative)
                    .sum(),
            }
        })
        .collect())
}
