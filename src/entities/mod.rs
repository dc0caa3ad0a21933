//! sea-orm entities: one module a table, as the migrations create them.

pub mod announcement;
pub mod api_key;
pub mod audit;
pub mod blocked_domain;
pub mod blocked_network;
pub mod campaign;
pub mod campaign_local;
pub mod campaign_sponsor;
pub mod campaign_text;
pub mod invitation;
pub mod local;
pub mod local_tally;
pub mod mail_ceiling;
pub mod mail_quota;
pub mod member_count;
pub mod member_hash;
pub mod outbox;
pub mod recovery_code;
pub mod role_grant;
pub mod secret;
pub mod session;
pub mod signature;
pub mod supporter_tally;
pub mod union;
pub mod user;
