//! Partner sites' keys for the JSON sign API: a partner signs on its visitors' behalf and
//! may name each visitor's address. The keys are rows of `api_keys` with the role
//! `partner` (made with `rollcall api-key create --role partner`, stored as hashes); each
//! process keeps their hashes in memory and re-reads them at most every [`REFRESH`], so a
//! sign request costs no database round trip to check its key.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use subtle::ConstantTimeEq;

use crate::{domain::Token, entities::api_key};

/// How long a process trusts its copy of the keys: a revoked key stops within this.
pub const REFRESH: Duration = Duration::from_secs(15);

/// The role an API key has when it is a partner site's.
pub const ROLE: &str = "partner";

/// The live partner keys' hashes, as one process holds them.
pub struct PartnerKeys {
    db: DatabaseConnection,
    cached: Mutex<Option<(Instant, Arc<Vec<String>>)>>,
}

impl PartnerKeys {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            cached: Mutex::new(None),
        }
    }

    /// Whether `key` is a live partner key. Every stored hash is compared in constant
    /// time, so the answer's timing tells nothing about how close a guess came.
    pub async fn accepts(&self, key: &str) -> Result<bool, DbErr> {
        let Ok(token) = Token::parse(key) else {
            return Ok(false);
        };
        let hash = token.hash();
        let keys = self.current().await?;
        Ok(keys.iter().fold(false, |found, stored| {
            found | bool::from(stored.as_bytes().ct_eq(hash.as_str().as_bytes()))
        }))
    }

    async fn current(&self) -> Result<Arc<Vec<String>>, DbErr> {
        if let Some((at, keys)) = &*self.cached.lock().unwrap_or_else(PoisonError::into_inner)
            && at.elapsed() < REFRESH
        {
            return Ok(keys.clone());
        }
        let keys: Vec<String> = api_key::Entity::find()
            .select_only()
            .column(api_key::Column::KeyHash)
            .filter(api_key::Column::Role.eq(ROLE))
            .filter(api_key::Column::RevokedAt.is_null())
            .into_tuple()
            .all(&self.db)
            .await?;
        let keys = Arc::new(keys);
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), keys.clone()));
        Ok(keys)
    }
}

/// The key in an `Authorization: Bearer KEY` header's value.
pub fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, key) = authorization.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_key_is_read_whatever_the_scheme_s_case() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
