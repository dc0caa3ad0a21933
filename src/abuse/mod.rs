//! What keeps scripts and floods out: per-address rate limits, blocked domains and
//! networks, the sign form's signed render time, and the client's address bucket.

pub mod blocks;
pub mod client;
pub mod limits;
pub mod stamp;
