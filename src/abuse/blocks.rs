//! Block lists: email domains (disposable-mail services, loadable from a file) whose
//! addresses may not sign, and addresses or CIDR ranges from which signatures are not
//! taken. Kept in the database, so an admin's change (from the command line, at runtime)
//! reaches every process within [`REFRESH`].

use std::{
    collections::HashSet,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, sea_query::OnConflict,
};

use crate::{
    abuse::client::{BadNetwork, parse_network},
    entities::{blocked_domain, blocked_network},
};

/// How long a process trusts its copy of the lists.
pub const REFRESH: Duration = Duration::from_secs(15);

/// The lists as one process holds them.
#[derive(Debug, Default)]
pub struct Blocks {
    domains: HashSet<String>,
    networks: Vec<IpNet>,
}

impl Blocks {
    /// Whether mail at `domain` (or any domain above it) is blocked.
    pub fn domain(&self, domain: &str) -> bool {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let mut rest = domain.as_str();
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return false,
            }
        }
    }

    pub fn address(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(&ip))
    }
}

/// The block lists, re-read from the database at most every [`REFRESH`].
pub struct BlockList {
    db: DatabaseConnection,
    cached: Mutex<Option<(Instant, Arc<Blocks>)>>,
}

impl BlockList {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            cached: Mutex::new(None),
        }
    }

    pub async fn current(&self) -> Result<Arc<Blocks>, DbErr> {
        if let Some((at, blocks)) = &*self.cached.lock().unwrap_or_else(PoisonError::into_inner)
            && at.elapsed() < REFRESH
        {
            return Ok(blocks.clone());
        }
        let blocks = Arc::new(read(&self.db).await?);
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), blocks.clone()));
        Ok(blocks)
    }
}

async fn read(db: &impl ConnectionTrait) -> Result<Blocks, DbErr> {
    let domains = blocked_domain::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect();
    let networks = blocked_network::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|n| parse_network(&n.network).ok())
        .collect();
    Ok(Blocks { domains, networks })
}

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("{0:?} is not a domain name")]
    BadDomain(String),
    #[error(transparent)]
    BadNetwork(#[from] BadNetwork),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Who blocked what, why and when.
pub struct Entry<'a> {
    pub reason: &'a str,
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

fn domain_name(text: &str) -> Result<String, BlockError> {
    let domain = text
        .trim()
        .trim_start_matches('@')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let valid = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid {
        Ok(domain)
    } else {
        Err(BlockError::BadDomain(text.to_owned()))
    }
}

/// Blocks email domains; returns how many were new. Lines of a loaded file may carry
/// comments after `#`.
pub async fn block_domains<'a>(
    db: &impl ConnectionTrait,
    domains: impl IntoIterator<Item = &'a str>,
    entry: &Entry<'_>,
) -> Result<u64, BlockError> {
    let mut rows = Vec::new();
    for line in domains {
        let text = line.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        rows.push(blocked_domain::ActiveModel {
            domain: Set(domain_name(text)?),
            reason: Set(entry.reason.to_owned()),
            added_by: Set(entry.by.to_owned()),
            added_at: Set(entry.at),
        });
    }
    let mut added = 0;
    for chunk in rows.chunks(500) {
        added += blocked_domain::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(blocked_domain::Column::Domain)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(added)
}

pub async fn block_network(
    db: &impl ConnectionTrait,
    network: &str,
    entry: &Entry<'_>,
) -> Result<bool, BlockError> {
    let net = parse_network(network)?;
    let added = blocked_network::Entity::insert(blocked_network::ActiveModel {
        network: Set(net.to_string()),
        reason: Set(entry.reason.to_owned()),
        added_by: Set(entry.by.to_owned()),
        added_at: Set(entry.at),
    })
    .on_conflict(
        OnConflict::column(blocked_network::Column::Network)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(added == 1)
}

/// Lifts a block on a domain or a network; returns whether there was one.
pub async fn unblock(db: &impl ConnectionTrait, what: &str) -> Result<bool, BlockError> {
    let removed = match parse_network(what) {
        Ok(net) => {
            blocked_network::Entity::delete_many()
                .filter(blocked_network::Column::Network.eq(net.to_string()))
                .exec(db)
                .await?
        }
        Err(_) => {
            blocked_domain::Entity::delete_many()
                .filter(blocked_domain::Column::Domain.eq(domain_name(what)?))
                .exec(db)
                .await?
        }
    };
    Ok(removed.rows_affected > 0)
}

/// Every block, for the command line: (what, reason, by, when).
pub async fn list(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, String, String, DateTime<Utc>)>, DbErr> {
    let networks = blocked_network::Entity::find()
        .order_by_asc(blocked_network::Column::Network)
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.network, n.reason, n.added_by, n.added_at));
    let domains = blocked_domain::Entity::find()
        .order_by_asc(blocked_domain::Column::Domain)
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.domain, d.reason, d.added_by, d.added_at));
    Ok(networks.chain(domains).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_and_its_subdomains_are_blocked() {
        let blocks = Blocks {
            domains: ["mailinator.com".to_owned()].into(),
            networks: vec![parse_network("203.0.113.0/24").unwrap()],
        };
        assert!(blocks.domain("mailinator.com"));
        assert!(blocks.domain("Eu.Mailinator.COM."));
        assert!(!blocks.domain("gmail.com"));
        assert!(!blocks.domain("com"));
        assert!(blocks.address("203.0.113.77".parse().unwrap()));
        assert!(!blocks.address("203.0.114.1".parse().unwrap()));
    }

    #[test]
    fn domain_names_are_checked_and_normalised() {
        assert_eq!(domain_name(" @Trash-Mail.org. ").unwrap(), "trash-mail.org");
        assert!(domain_name("not a domain").is_err());
        assert!(domain_name("localhost").is_err());
    }
}
