//! Who is asking, and which signers they may see. Every service that shows or exports
//! signers asks [`signer_scope`] itself, so a new page cannot forget to.
//!
//! - an admin sees every campaign's signers;
//! - a campaign's organizer sees all of its signers, community supporters included;
//! - a union's organizer sees, on a campaign the union sponsors, that union's locals;
//! - a local's officer sees that local's signers, on any campaign it can sign;
//! - nobody else sees any. A person who has not given the second factor sees none.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::json;

use crate::{
    accounts::{SessionUser, grants_of},
    audit::audit_entry,
    domain::{Grant, Token},
    entities::{api_key, campaign, local, user},
    store::campaigns,
    store::tally::Directory,
};

/// The one asking: a signed-in person or a program with an API key.
#[derive(Debug, Clone)]
pub enum Caller {
    User(SessionUser),
    Key { id: i64, grant: Grant },
}

impl Caller {
    /// How the audit log names them.
    pub fn label(&self) -> String {
        match self {
            Caller::User(user) => format!("user:{} {}", user.user_id, user.email),
            Caller::Key { id, .. } => format!("api-key:{id}"),
        }
    }

    /// The grants in force: none for a person who has not given the second factor.
    pub fn grants(&self) -> &[Grant] {
        match self {
            Caller::User(user) if user.second_factor => &user.grants,
            Caller::User(_) => &[],
            Caller::Key { grant, .. } => std::slice::from_ref(grant),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.grants().contains(&Grant::Admin)
    }
}

/// Which of a campaign's signers a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerScope {
    /// All of them, community supporters included.
    Everyone,
    /// Those of these locals only.
    Locals(BTreeSet<i64>),
}

impl SignerScope {
    pub fn includes_local(&self, local_id: Option<i64>) -> bool {
        match (self, local_id) {
            (SignerScope::Everyone, _) => true,
            (SignerScope::Locals(locals), Some(id)) => locals.contains(&id),
            (SignerScope::Locals(_), None) => false,
        }
    }
}

/// The signers of `campaign` that `caller` may see, or `None` for none at all.
pub fn signer_scope(
    caller: &Caller,
    campaign: &campaign::Model,
    directory: &Directory,
) -> Option<SignerScope> {
    scope(caller, campaign, directory, true)
}

/// The signers of `campaign` the caller organizes (moderates), or `None`: all of them
/// for an admin or its organizer, a sponsoring union's locals for that union's organizer.
/// An officer's grant adds nothing here, whatever other grants the caller holds, and a
/// union grant covers only that union's locals. Organizers see every local's count.
pub fn organizing_scope(
    caller: &Caller,
    campaign: &campaign::Model,
    directory: &Directory,
) -> Option<SignerScope> {
    scope(caller, campaign, directory, false)
}

/// The grants' reach over a campaign's signers; an officer's local counts only when
/// `officers` is set (seeing, not organizing).
fn scope(
    caller: &Caller,
    campaign: &campaign::Model,
    directory: &Directory,
    officers: bool,
) -> Option<SignerScope> {
    let mut locals = BTreeSet::new();
    for grant in caller.grants() {
        match *grant {
            Grant::Admin => return Some(SignerScope::Everyone),
            Grant::CampaignOrganizer { campaign_id } if campaign_id == campaign.id => {
                return Some(SignerScope::Everyone);
            }
            // The directory holds only the sponsors' locals.
            Grant::UnionOrganizer { union_id } => locals.extend(
                directory
                    .locals
                    .values()
                    .filter(|l| directory.union_id(&l.union) == Some(union_id))
                    .map(|l| l.id),
            ),
            Grant::Officer { local_id } if officers && directory.locals.contains_key(&local_id) => {
                locals.insert(local_id);
            }
            Grant::CampaignOrganizer { .. } | Grant::Officer { .. } => {}
        }
    }
    (!locals.is_empty()).then_some(SignerScope::Locals(locals))
}

/// Whether the caller may edit the campaign: an admin, or its organizer.
pub fn edits_campaign(caller: &Caller, campaign_id: i64) -> bool {
    caller
        .grants()
        .iter()
        .any(|g| *g == Grant::Admin || *g == Grant::CampaignOrganizer { campaign_id })
}

/// The campaigns a caller has any signers to see on, newest first, each with the scope
/// and the directory of its signing locals.
pub async fn visible_campaigns(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> Result<Vec<(campaign::Model, SignerScope, Directory)>, DbErr> {
    if caller.grants().is_empty() {
        return Ok(Vec::new());
    }
    let mut visible = Vec::new();
    for found in campaign::Entity::find()
        .order_by_desc(campaign::Column::CreatedAt)
        .all(db)
        .await?
    {
        let directory = campaigns::directory(db, &found).await?;
        if let Some(scope) = signer_scope(caller, &found, &directory) {
            visible.push((found, scope, directory));
        }
    }
    Ok(visible)
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no campaign {0:?}")]
    UnknownCampaign(String),
    #[error("no local {0:?}")]
    UnknownLocal(String),
    #[error("an API key is an organizer's of one campaign or an officer's of one local")]
    WrongGrant,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What a new key may do, as given on the command line.
pub enum KeyFor<'a> {
    Campaign(&'a str),
    /// A local's id or slug.
    Local(&'a str),
    /// A partner site's: it may sign through the JSON API for its visitors, and read
    /// nothing of anyone's.
    Partner,
}

/// Makes an API key on the command line; the key itself is returned once and only its
/// hash is kept. It answers to nobody's account, so it lives until revoked.
pub async fn create_key(
    db: &impl ConnectionTrait,
    what: KeyFor<'_>,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(i64, Token), KeyError> {
    let grant = match what {
        KeyFor::Partner => None,
        KeyFor::Campaign(slug) => {
            let found = campaigns::by_slug(db, slug)
                .await?
                .ok_or_else(|| KeyError::UnknownCampaign(slug.to_owned()))?;
            Some(Grant::CampaignOrganizer {
                campaign_id: found.id,
            })
        }
        KeyFor::Local(id_or_slug) => {
            let query = match id_or_slug.parse::<i64>() {
                Ok(id) => local::Entity::find_by_id(id),
                Err(_) => local::Entity::find().filter(local::Column::Slug.eq(id_or_slug)),
            };
            let found = query
                .one(db)
                .await?
                .ok_or_else(|| KeyError::UnknownLocal(id_or_slug.to_owned()))?;
            Some(Grant::Officer { local_id: found.id })
        }
    };
    insert_key(db, grant, label, None, "command line", now).await
}

/// A signed-in person (who gave the second factor) makes a key for one of their own
/// grants, or an admin for any campaign or local. The key records who made it and stops
/// working when that person is disabled or loses the grant.
pub async fn create_key_as(
    db: &impl ConnectionTrait,
    caller: &Caller,
    grant: Grant,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(i64, Token), KeyError> {
    let Caller::User(user) = caller else {
        return Err(KeyError::WrongGrant);
    };
    if !grant.takes_api_key() || !holds(caller.grants(), grant) {
        return Err(KeyError::WrongGrant);
    }
    insert_key(
        db,
        Some(grant),
        label,
        Some(user.user_id),
        &caller.label(),
        now,
    )
    .await
}

/// Whether these grants cover `grant`: the grant itself, or admin.
fn holds(grants: &[Grant], grant: Grant) -> bool {
    grants.iter().any(|g| *g == Grant::Admin || *g == grant)
}

/// Stores a new key's hash; no grant makes a partner's key.
async fn insert_key(
    db: &impl ConnectionTrait,
    grant: Option<Grant>,
    label: &str,
    created_by: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(i64, Token), KeyError> {
    let (role, campaign_id, _, local_id) = grant.as_ref().map_or(
        (crate::accounts::partners::ROLE, None, None, None),
        Grant::columns,
    );
    let token = Token::generate();
    let done = api_key::Entity::insert(api_key::ActiveModel {
        key_hash: Set(token.hash().as_str().to_owned()),
        role: Set(role.to_owned()),
        campaign_id: Set(campaign_id),
        local_id: Set(local_id),
        label: Set(label.to_owned()),
        created_at: Set(now),
        revoked_at: Set(None),
        created_by: Set(created_by),
        ..Default::default()
    })
    .exec(db)
    .await?;
    audit_entry(
        db,
        actor,
        "api_key.create",
        json!({"key": done.last_insert_id, "grant": grant, "role": role, "label": label}),
        now,
    )
    .await?;
    Ok((done.last_insert_id, token))
}

/// The caller an API key speaks for, if it is one of ours and not revoked, and the person
/// who made it (if a person did) is still enabled and still holds its grant.
pub async fn key_caller(db: &impl ConnectionTrait, key: &str) -> Result<Option<Caller>, DbErr> {
    let Ok(token) = Token::parse(key) else {
        return Ok(None);
    };
    let Some(found) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(token.hash().as_str()))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(grant) = Grant::from_columns(&found.role, found.campaign_id, None, found.local_id)
        .filter(|g| matches!(g, Grant::CampaignOrganizer { .. } | Grant::Officer { .. }))
    else {
        return Ok(None);
    };
    if let Some(maker) = found.created_by {
        let enabled = user::Entity::find_by_id(maker)
            .one(db)
            .await?
            .is_some_and(|u| u.disabled_at.is_none());
        if !enabled || !holds(&grants_of(db, maker).await?, grant) {
            return Ok(None);
        }
    }
    Ok(Some(Caller::Key {
        id: found.id,
        grant,
    }))
}

/// Revokes a key at once; whether there was a live one with that id.
pub async fn revoke_key(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        audit_entry(
            db,
            "command line",
            "api_key.revoke",
            json!({"key": id}),
            now,
        )
        .await?;
    }
    Ok(done.rows_affected == 1)
}

/// Every key, revoked ones included, oldest first.
pub async fn list_keys(db: &impl ConnectionTrait) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await
}

/// What an admin can invite someone to be, each with the name of what it covers (none for
/// admin, a campaign's slug, a union's name, a local's union and name): admin, a
/// campaign's organizer, a union's organizer, a local's officer.
pub async fn invite_choices(db: &impl ConnectionTrait) -> Result<Vec<(Grant, String)>, DbErr> {
    use crate::entities::union;
    let mut choices = vec![(Grant::Admin, String::new())];
    for found in campaign::Entity::find()
        .order_by_desc(campaign::Column::CreatedAt)
        .all(db)
        .await?
    {
        choices.push((
            Grant::CampaignOrganizer {
                campaign_id: found.id,
            },
            found.slug,
        ));
    }
    let unions = union::Entity::find()
        .order_by_asc(union::Column::Name)
        .all(db)
        .await?;
    for found in &unions {
        choices.push((
            Grant::UnionOrganizer { union_id: found.id },
            found.name.clone(),
        ));
    }
    for found in local::Entity::find()
        .order_by_asc(local::Column::UnionId)
        .order_by_asc(local::Column::Id)
        .all(db)
        .await?
    {
        let union = unions
            .iter()
            .find(|u| u.id == found.union_id)
            .map_or("", |u| u.short_name.as_str());
        choices.push((
            Grant::Officer { local_id: found.id },
            format!("{union} {}", found.name),
        ));
    }
    Ok(choices)
}

/// Whether the caller keeps this local's records (its member count, its paper sheets):
/// an admin, or the local's officer.
pub fn keeps_local(caller: &Caller, local_id: i64) -> bool {
    caller
        .grants()
        .iter()
        .any(|g| *g == Grant::Admin || *g == Grant::Officer { local_id })
}

/// The locals whose records the caller keeps; every local for an admin.
pub async fn kept_locals(
    db: &impl ConnectionTrait,
    caller: &Caller,
) -> Result<Vec<local::Model>, DbErr> {
    let query = local::Entity::find()
        .order_by_asc(local::Column::UnionId)
        .order_by_asc(local::Column::Id);
    if caller.is_admin() {
        return query.all(db).await;
    }
    let ids: Vec<i64> = caller
        .grants()
        .iter()
        .filter_map(|g| match g {
            Grant::Officer { local_id } => Some(*local_id),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    query.filter(local::Column::Id.is_in(ids)).all(db).await
}
