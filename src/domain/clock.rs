//! The time as the tally hub reads it: the system's, moved forward on demand in tests, so
//! that what happens on a cadence of minutes is tested without waiting minutes.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

/// The system's time plus an offset that only tests move.
#[derive(Clone)]
pub struct Clock {
    /// Nanoseconds added to the system's time.
    offset: Arc<watch::Sender<i64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self {
            offset: Arc::new(watch::channel(0).0),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::nanoseconds(*self.offset.borrow())
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        // A move too large for nanoseconds goes as far as it can, the way it was going.
        let nanos = by.num_nanoseconds().unwrap_or(if by < Duration::zero() {
            i64::MIN
        } else {
            i64::MAX
        });
        self.offset
            .send_modify(|offset| *offset = offset.saturating_add(nanos));
    }

    /// Wakes when the clock is moved by [`Clock::advance`].
    pub fn moves(&self) -> watch::Receiver<i64> {
        self.offset.subscribe()
    }
}

/// The one way times are written for people and machines: RFC 3339 in UTC, to the
/// second (`2026-12-07T10:03:20Z`).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock(+{} ms)", *self.offset.borrow() / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_clock_moves_its_copies_and_tells_them() {
        let clock = Clock::system();
        let copy = clock.clone();
        let moves = copy.moves();
        let before = copy.now();
        clock.advance(Duration::minutes(5));
        assert!(copy.now() - before >= Duration::minutes(5));
        assert!(moves.has_changed().unwrap());
    }
}
