//! Live tally streams held per client address, capped (`streams_per_client`): a stream
//! lasts for hours and holds a connection, so one address must not hold thousands while
//! a union hall's phones on one Wi-Fi (a few hundred) all still follow the count. Per
//! process, like the per-address limiter; the connections in all are capped in `serve`.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use rollcall::abuse::client::{ClientIp, bucket};

/// How long a refused watcher is told to wait before trying again.
const RETRY_AFTER_SECS: u32 = 30;

/// The streams each client address holds now.
pub struct StreamSlots {
    cap: u32,
    held: Mutex<HashMap<IpAddr, u32>>,
}

/// One stream's place in its client's count, given back when dropped.
pub struct Slot {
    slots: Arc<StreamSlots>,
    client: IpAddr,
}

impl StreamSlots {
    pub fn new(cap: u32) -> Arc<Self> {
        Arc::new(Self {
            cap,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more stream of `client` (IPv6: its /64), unless it holds its cap.
    pub fn take(self: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let client = bucket(client);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(client).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: Arc::clone(self),
            client,
        })
    }

    /// Streams `client` holds now.
    pub fn held_by(&self, client: IpAddr) -> u32 {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(&bucket(client)).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

fn is_stream(method: &Method, path: &str) -> bool {
    method == Method::GET
        && path.starts_with("/api/v1/campaigns/")
        && path.ends_with("/tally/stream")
}

/// Takes a slot for a live stream before it opens and holds it in the stream's body, so
/// it is given back when the watcher leaves; over the cap, `429` with `Retry-After`.
pub async fn cap(State(slots): State<Arc<StreamSlots>>, request: Request, next: Next) -> Response {
    if !is_stream(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let client = request
        .extensions()
        .get::<ClientIp>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0);
    let Some(slot) = slots.take(client) else {
        return crate::problem::ApiError::TooManyStreams {
            seconds: u64::from(RETRY_AFTER_SECS),
        }
        .into_response();
    };
    let response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    response.map(|body| {
        Body::from_stream(futures::StreamExt::map(
            body.into_data_stream(),
            move |chunk| {
                let _held = &slot;
                chunk
            },
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_no_more_than_its_cap_and_gets_them_back() {
        let slots = StreamSlots::new(2);
        let one: IpAddr = "198.51.100.7".parse().unwrap();
        let other: IpAddr = "198.51.100.8".parse().unwrap();
        let first = slots.take(one).unwrap();
        let _second = slots.take(one).unwrap();
        assert!(slots.take(one).is_none(), "the third is refused");
        assert!(slots.take(other).is_some(), "another address is served");
        drop(first);
        assert_eq!(slots.held_by(one), 1);
        assert!(
            slots.take(one).is_some(),
            "a stream that ended frees its place"
        );
    }

    #[test]
    fn an_ipv6_network_of_64_counts_as_one_address() {
        let slots = StreamSlots::new(1);
        let _held = slots.take("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(slots.take("2001:db8:1:2::99".parse().unwrap()).is_none());
    }

    #[test]
    fn only_the_tally_stream_is_counted() {
        assert!(is_stream(&Method::GET, "/api/v1/campaigns/x/tally/stream"));
        assert!(!is_stream(&Method::GET, "/api/v1/campaigns/x/tally"));
        assert!(!is_stream(
            &Method::POST,
            "/api/v1/campaigns/x/tally/stream"
        ));
    }
}
