//! sea-orm entities: one module a table, as the migrations create them.

pub mod audit;
pub mod blocked_domain;
pub mod blocked_network;
pub mod campaign;
pub mod campaign_sponsor;
pub mod campaign_text;
pub mod local;
pub mod local_tally;
pub mod mail_ceiling;
pub mod mail_quota;
pub mod member_count;
pub mod outbox;
pub mod secret;
pub mod signature;
pub mod supporter_tally;
pub mod union;
