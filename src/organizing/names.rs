//! The public list of signers: only those who chose to show their name, newest first,
//! a page at a time, each with as much of their local as the campaign shows.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::{
    domain::{PublicBreakdown, SignatureStatus},
    entities::{campaign, signature},
    live::hub::TallyHub,
    store::tally::{Directory, Publication},
    views::{NamesPage, PublicName},
};

/// Names on one page.
pub const PAGE_SIZE: u64 = 25;

/// Where a page starts: just older than this confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    confirmed_at: DateTime<Utc>,
    id: Uuid,
}

impl Cursor {
    /// Reads a cursor from a `next` value; None for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (nanos, id) = text.split_once('.')?;
        Some(Self {
            confirmed_at: DateTime::from_timestamp_nanos(nanos.parse().ok()?),
            id: Uuid::try_parse(id).ok()?,
        })
    }

    fn encode(self) -> String {
        let nanos = self.confirmed_at.timestamp_nanos_opt().unwrap_or_default();
        format!("{nanos}.{}", self.id.simple())
    }
}

/// "Lucy Parsons" shows as "Lucy P.": enough for a friend to find, not for a stranger.
pub fn public_name(given_name: &str, family_name: &str) -> String {
    match family_name.trim().chars().next() {
        Some(initial) => format!("{} {initial}.", given_name.trim()),
        None => given_name.trim().to_owned(),
    }
}

type Row = (Uuid, Option<i64>, String, String, Option<DateTime<Utc>>);

/// One page of opted-in names, newest first, starting after `before`.
pub async fn public_names(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    directory: &Directory,
    publication: Publication,
    unsealed: Option<std::collections::BTreeSet<i64>>,
    before: Option<Cursor>,
) -> Result<NamesPage, DbErr> {
    let mut query = signature::Entity::find()
        .select_only()
        .columns([
            signature::Column::Id,
            signature::Column::LocalId,
            signature::Column::GivenName,
            signature::Column::FamilyName,
            signature::Column::ConfirmedAt,
        ])
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .filter(signature::Column::ShowName.eq(true))
        .filter(signature::Column::ConfirmedAt.is_not_null());
    // A sealed pledge names nobody in a local that has not reached its threshold, even
    // those who chose to show their name.
    if let Some(open) = unsealed {
        query = query.filter(signature::Column::LocalId.is_in(open));
    }
    if let Some(cursor) = before {
        query = query.filter(
            Condition::any()
                .add(signature::Column::ConfirmedAt.lt(cursor.confirmed_at))
                .add(
                    Condition::all()
                        .add(signature::Column::ConfirmedAt.eq(cursor.confirmed_at))
                        .add(signature::Column::Id.lt(cursor.id)),
                ),
        );
    }
    let mut rows: Vec<Row> = query
        .order_by_desc(signature::Column::ConfirmedAt)
        .order_by_desc(signature::Column::Id)
        .limit(PAGE_SIZE + 1)
        .into_tuple()
        .all(db)
        .await?;
    let more = rows.len() as u64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next = more
        .then(|| rows.last())
        .flatten()
        .and_then(|(id, _, _, _, confirmed_at)| {
            confirmed_at.map(|confirmed_at| {
                Cursor {
                    confirmed_at,
                    id: *id,
                }
                .encode()
            })
        });
    let group = |local_id: Option<i64>| {
        let local = directory.locals.get(&local_id?)?;
        match publication.breakdown {
            PublicBreakdown::TotalOnly => None,
            PublicBreakdown::ByUnion => directory
                .unions
                .iter()
                .find(|u| u.slug == local.union)
                .map(|u| u.name.clone()),
            PublicBreakdown::ByLocal => Some(local.label()),
        }
    };
    let names = rows
        .into_iter()
        .map(|(_, local_id, given, family, _)| PublicName {
            name: public_name(&given, &family),
            group: group(local_id),
        })
        .collect();
    Ok(NamesPage { names, next })
}

/// One page of a campaign's public names, shown as its public tally shows groups.
pub async fn page(
    db: &impl ConnectionTrait,
    hub: &TallyHub,
    campaign: &campaign::Model,
    before: Option<Cursor>,
) -> Result<NamesPage, DbErr> {
    let (directory, publication) = hub.directory(campaign).await?;
    let unsealed = crate::pledges::unsealed_locals(campaign, &directory);
    public_names(db, campaign.id, &directory, publication, unsealed, before).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_name_is_the_given_name_and_an_initial() {
        assert_eq!(public_name("Lucy", "Parsons"), "Lucy P.");
        assert_eq!(public_name(" Ñora ", "Úbeda"), "Ñora Ú.");
        assert_eq!(public_name("Cher", ""), "Cher");
    }

    #[test]
    fn a_cursor_reads_back_and_nonsense_is_refused() {
        let cursor = Cursor {
            confirmed_at: DateTime::from_timestamp_nanos(1_764_000_000_123_456_789),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::parse("12.not-a-uuid"), None);
        assert_eq!(Cursor::parse("drop table"), None);
    }
}
