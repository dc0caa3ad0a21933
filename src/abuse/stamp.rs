//! The sign form's stamp: the time the form was rendered, signed with the server's own
//! key. A submission without a good stamp, or sooner after rendering than a person can
//! type, is a script; so is one that fills the hidden honeypot field. Either is answered
//! as if accepted, and nothing is written.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};
use sha2::Sha256;

use crate::entities::secret;

/// The name of the form's honeypot field: people never see it, scripts fill it.
pub const HONEYPOT: &str = "website";
/// A form older than this is stale (the page was left open overnight): sign again.
pub const MAX_AGE: Duration = Duration::hours(24);

const KEY_NAME: &str = "form_stamp_key";

/// The key stamps are signed with, made once and shared by every process through the
/// database.
#[derive(Clone)]
pub struct FormKey([u8; 32]);

impl std::fmt::Debug for FormKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormKey(..)")
    }
}

/// What a submission's stamp says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampCheck {
    Good,
    /// Sent sooner after rendering than a person fills the form.
    TooFast,
    /// Rendered more than [`MAX_AGE`] ago.
    Stale,
    /// Missing, malformed, or not signed by us.
    Forged,
}

/// Who sent a sign form, as far as the form can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screening {
    Person,
    /// A filled honeypot, or a stamp too fast, forged or missing: answer as if accepted
    /// and write nothing.
    Script,
    /// A person who left the page open for over a day: ask them to reload and sign.
    Stale,
}

impl FormKey {
    /// Screens a sign form by its stamp and its honeypot field.
    pub fn screen(
        &self,
        stamp: &str,
        honeypot: &str,
        now: DateTime<Utc>,
        min_age: Duration,
    ) -> Screening {
        if !honeypot.is_empty() {
            return Screening::Script;
        }
        match self.check(stamp, now, min_age) {
            StampCheck::Good => Screening::Person,
            StampCheck::Stale => Screening::Stale,
            StampCheck::TooFast | StampCheck::Forged => Screening::Script,
        }
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads the key, making it first if this is a new database.
    pub async fn load_or_create(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        Ok(Self(server_key(db, KEY_NAME).await?))
    }

    fn mac(&self, millis: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(b"rollcall form stamp ");
        mac.update(&millis.to_be_bytes());
        mac
    }

    /// A stamp for a form rendered at `now`.
    pub fn issue(&self, now: DateTime<Utc>) -> String {
        let millis = now.timestamp_millis();
        let tag = self.mac(millis).finalize().into_bytes();
        format!("{millis}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks a submitted stamp at `now`: good if ours and between `min_age` and
    /// [`MAX_AGE`] old.
    pub fn check(&self, stamp: &str, now: DateTime<Utc>, min_age: Duration) -> StampCheck {
        let Some((millis, tag)) = stamp.split_once('.') else {
            return StampCheck::Forged;
        };
        let (Ok(millis), Ok(tag)) = (millis.parse::<i64>(), URL_SAFE_NO_PAD.decode(tag)) else {
            return StampCheck::Forged;
        };
        if self.mac(millis).verify_slice(&tag).is_err() {
            return StampCheck::Forged;
        }
        let Some(rendered) = DateTime::from_timestamp_millis(millis) else {
            return StampCheck::Forged;
        };
        let age = now - rendered;
        if age < min_age {
            StampCheck::TooFast
        } else if age > MAX_AGE {
            StampCheck::Stale
        } else {
            StampCheck::Good
        }
    }
}

/// A 32-byte key the server keeps under `name`, made the first time it is asked for;
/// every process on the database reads the same one.
pub async fn server_key(db: &impl ConnectionTrait, name: &str) -> Result<[u8; 32], DbErr> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(|e| DbErr::Custom(format!("no randomness: {e}")))?;
    // Whoever inserts first wins; everyone reads the winner.
    secret::Entity::insert(secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(URL_SAFE_NO_PAD.encode(fresh)),
    })
    .on_conflict(
        OnConflict::column(secret::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let stored = secret::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(name.into()))?;
    URL_SAFE_NO_PAD
        .decode(stored.value)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| DbErr::Custom(format!("the stored key {name} is damaged")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_is_good_between_the_minimum_and_the_maximum_age() {
        let key = FormKey::from_bytes([7; 32]);
        let rendered = Utc::now();
        let stamp = key.issue(rendered);
        let min = Duration::seconds(2);
        assert_eq!(
            key.check(&stamp, rendered + Duration::seconds(1), min),
            StampCheck::TooFast
        );
        assert_eq!(
            key.check(&stamp, rendered + Duration::seconds(30), min),
            StampCheck::Good
        );
        assert_eq!(
            key.check(&stamp, rendered + Duration::hours(25), min),
            StampCheck::Stale
        );
    }

    #[test]
    fn a_filled_honeypot_is_a_script_whatever_the_stamp() {
        let key = FormKey::from_bytes([7; 32]);
        let rendered = Utc::now() - Duration::minutes(1);
        let stamp = key.issue(rendered);
        let min = Duration::seconds(2);
        assert_eq!(key.screen(&stamp, "", Utc::now(), min), Screening::Person);
        assert_eq!(
            key.screen(&stamp, "http://spam", Utc::now(), min),
            Screening::Script
        );
        assert_eq!(key.screen("", "", Utc::now(), min), Screening::Script);
        let old = key.issue(Utc::now() - Duration::hours(30));
        assert_eq!(key.screen(&old, "", Utc::now(), min), Screening::Stale);
    }

    #[test]
    fn a_stamp_not_signed_with_our_key_is_forged() {
        let ours = FormKey::from_bytes([7; 32]);
        let theirs = FormKey::from_bytes([8; 32]);
        let rendered = Utc::now() - Duration::minutes(1);
        let min = Duration::seconds(2);
        assert_eq!(
            ours.check(&theirs.issue(rendered), Utc::now(), min),
            StampCheck::Forged
        );
        let (millis, tag) = ours
            .issue(rendered)
            .split_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        let older = format!("{}.{tag}", millis.parse::<i64>().unwrap() - 60_000);
        assert_eq!(
            ours.check(&older, Utc::now(), min),
            StampCheck::Forged,
            "the time is signed"
        );
        assert_eq!(ours.check("", Utc::now(), min), StampCheck::Forged);
    }
}
