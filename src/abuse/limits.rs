//! Per-address rate limits (governor's keyed GCRA): a short burst plus a sustained rate,
//! keyed by the client's address bucket (an IPv6 /64). Each process keeps its own
//! counts; limits that must hold across processes live in the database (`mail::quota`).
//! They read the app's clock, so a test moves time instead of waiting for it.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    Quota, RateLimiter, clock, middleware::NoOpMiddleware, state::keyed::DashMapStateStore,
};
use serde::{Deserialize, Serialize};

use crate::domain::clock::Clock;

/// A limit: `burst` requests at once, refilled at `per_hour` an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub burst: u32,
    pub per_hour: u32,
}

/// The app's clock as governor reads it: the time since the Unix epoch.
#[derive(Clone)]
struct AppClock(Clock);

impl clock::Clock for AppClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        let since_epoch = self.0.now().timestamp_nanos_opt().unwrap_or(0);
        Duration::from_nanos(u64::try_from(since_epoch).unwrap_or(0))
    }
}

pub struct Limiter {
    limit: Limit,
    inner: RateLimiter<IpAddr, DashMapStateStore<IpAddr>, AppClock, NoOpMiddleware<Duration>>,
    clock: AppClock,
}

impl Limiter {
    pub fn new(limit: Limit, clock: Clock) -> Self {
        let per_hour = NonZeroU32::new(limit.per_hour).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let clock = AppClock(clock);
        Self {
            limit,
            inner: RateLimiter::dashmap_with_clock(
                Quota::per_hour(per_hour).allow_burst(burst),
                clock.clone(),
            ),
            clock,
        }
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    /// Takes one request from `key`'s allowance, or says how long until there is one.
    pub fn check(&self, key: IpAddr) -> Result<(), Duration> {
        self.inner
            .check_key(&crate::abuse::client::bucket(key))
            .map_err(|not_until| not_until.wait_time_from(clock::Clock::now(&self.clock)))
    }

    /// Drops the keys whose allowance is full again, so memory stays bounded by the
    /// addresses seen recently. Run it on a timer.
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }

    /// How many addresses it holds state for.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_address_waits_while_another_goes_on() {
        let clock = Clock::system();
        let limiter = Limiter::new(
            Limit {
                burst: 3,
                per_hour: 60,
            },
            clock.clone(),
        );
        let (one, two): (IpAddr, IpAddr) = (
            "198.51.100.1".parse().unwrap(),
            "198.51.100.2".parse().unwrap(),
        );
        for _ in 0..3 {
            assert!(limiter.check(one).is_ok());
        }
        let wait = limiter
            .check(one)
            .expect_err("the fourth at once is refused");
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert!(
            limiter.check(two).is_ok(),
            "another address has its own allowance"
        );
        clock.advance(chrono::Duration::from_std(wait).unwrap());
        assert!(limiter.check(one).is_ok(), "one more after the wait");
        assert!(limiter.check(one).is_err(), "but only one");
        clock.advance(chrono::Duration::hours(1));
        limiter.forget_idle();
        assert_eq!(limiter.len(), 0, "an hour later nobody is remembered");
    }

    #[test]
    fn addresses_of_one_ipv6_64_share_an_allowance() {
        let limiter = Limiter::new(
            Limit {
                burst: 1,
                per_hour: 1,
            },
            Clock::system(),
        );
        assert!(limiter.check("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limiter.check("2001:db8::2".parse().unwrap()).is_err());
        assert_eq!(limiter.len(), 1);
    }
}
