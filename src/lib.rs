//! Rollcall's domain: the types and rules of union petitions and strike pledges.
//!
//! Everything outside `ssr` compiles to wasm and is shared with the sign form, so the
//! browser checks input with the same rules as the server. Under `ssr` live the
//! storage entities and the services (signing, confirming, tallies, mail, imports).

pub mod domain;
pub mod views;

// `i18n`: the words of every page, form message and mail, generated at build time from
// `locales/{en,es}.json` (see locales/README.md): `td_string!(Locale::es, sign.button)`.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

#[cfg(feature = "ssr")]
pub mod access;
#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod announcing;
#[cfg(feature = "ssr")]
pub mod blocks;
#[cfg(feature = "ssr")]
pub mod campaigns;
#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod confirming;
#[cfg(feature = "ssr")]
pub mod dashboards;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod editing;
#[cfg(feature = "ssr")]
pub mod entities;
#[cfg(feature = "ssr")]
pub mod exporting;
#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod invalidating;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod lookup;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod membership;
#[cfg(feature = "ssr")]
pub mod moderation;
#[cfg(feature = "ssr")]
pub mod names;
#[cfg(feature = "ssr")]
pub mod paper;
#[cfg(feature = "ssr")]
pub mod pledges;
#[cfg(feature = "ssr")]
pub mod qr;
#[cfg(feature = "ssr")]
pub mod retention;
#[cfg(feature = "ssr")]
pub mod series;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod stamp;
#[cfg(feature = "ssr")]
pub mod tally;
#[cfg(feature = "ssr")]
pub mod verifying;
#[cfg(feature = "ssr")]
pub mod withdrawing;
