//! Storage and the reads everyone shares: connecting and write transactions, campaigns as
//! the public sees them, the tally rows and their recount, the daily series, finding a
//! signature by its token, and the retention sweep.

pub mod campaigns;
pub mod db;
pub mod lookup;
pub mod retention;
pub mod series;
pub mod tally;
