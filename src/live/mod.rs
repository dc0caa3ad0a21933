//! The live tally: each campaign's count in memory, moved as signatures commit, and sent
//! to every open page as server-sent events, across processes by LISTEN/NOTIFY.

pub mod effects;
pub mod hub;
pub mod public;
