//! What the per-address limiter costs a request: working out the client from the peer
//! and a forwarded-for header behind a trusted proxy, then taking from its allowance.
//! Run: `cargo run --release --example limiter_cost --features ssr`

use std::{hint::black_box, net::IpAddr, time::Instant};

use rollcall::{
    abuse::client::ClientRule,
    abuse::limits::{Limit, Limiter},
};

fn main() {
    let rule = ClientRule::new(&["10.0.0.0/8".to_owned()]).expect("a valid range");
    let limiter = Limiter::new(
        Limit {
            burst: 60,
            per_hour: 600,
        },
        rollcall::domain::clock::Clock::system(),
    );
    let proxy: IpAddr = "10.0.0.1".parse().expect("an address");
    // 50,000 distinct clients, each a forwarded-for header as a proxy would send it.
    let headers: Vec<String> = (0..50_000u32)
        .map(|i| {
            format!(
                "203.{}.{}.{}, 10.0.0.2",
                (i >> 16) & 255,
                (i >> 8) & 255,
                i & 255
            )
        })
        .collect();
    let rounds = 2_000_000usize;
    let started = Instant::now();
    let mut allowed = 0usize;
    for i in 0..rounds {
        let header = headers[i % headers.len()].as_str();
        let client = rule.client_ip(black_box(proxy), std::iter::once(header));
        allowed += usize::from(limiter.check(client).is_ok());
    }
    let elapsed = started.elapsed();
    println!(
        "{rounds} requests from {} clients: {:.0} ns per request (client rule + limiter), {allowed} allowed, {} keys held",
        headers.len(),
        elapsed.as_nanos() as f64 / rounds as f64,
        limiter.len()
    );
    let started = Instant::now();
    for i in 0..rounds {
        let client: IpAddr = [198, 51, (i >> 8) as u8, i as u8].into();
        black_box(limiter.check(client).is_ok());
    }
    println!(
        "limiter alone: {:.0} ns per check",
        started.elapsed().as_nanos() as f64 / rounds as f64
    );
}
