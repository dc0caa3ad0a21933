//! Who the client is: the peer's address, unless the peer is one of our own proxies, and
//! only then the address it reports in `X-Forwarded-For` (the rightmost hop that is not
//! one of ours). Ready-made "smart" extractors believe any client's header; this one
//! believes only `TRUSTED_PROXIES`.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

/// The client's address as the request's extensions carry it, for limits and records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

#[derive(Debug, Clone, Default)]
pub struct ClientRule {
    trusted: Vec<IpNet>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an IP address or a CIDR range")]
pub struct BadNetwork(pub String);

/// Reads `203.0.113.7` (one address) or `10.0.0.0/8` (a range).
pub fn parse_network(text: &str) -> Result<IpNet, BadNetwork> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| BadNetwork(text.to_owned()))
}

/// An IPv4 address as itself, an IPv4-mapped IPv6 address as its IPv4, and an IPv6
/// address as the start of its /64: one household or phone network gets one bucket,
/// however many addresses it rotates through.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl ClientRule {
    pub fn new(trusted_proxies: &[String]) -> Result<Self, BadNetwork> {
        Ok(Self {
            trusted: trusted_proxies
                .iter()
                .filter(|t| !t.trim().is_empty())
                .map(|t| parse_network(t))
                .collect::<Result<_, _>>()?,
        })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = bucket_v4(ip);
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given every `X-Forwarded-For` header in order.
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|h| h.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                // Garbage further left came from the client: stop at what we know.
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// An IPv4-mapped IPv6 address as IPv4, so `::ffff:10.0.0.1` matches `10.0.0.0/8`.
fn bucket_v4(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn rule(trusted: &[&str]) -> ClientRule {
        ClientRule::new(&trusted.iter().map(|t| t.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let rule = rule(&["10.0.0.0/8"]);
        assert_eq!(
            rule.client_ip(ip("198.51.100.9"), ["1.2.3.4"].into_iter()),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn behind_our_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let rule = rule(&["10.0.0.0/8", "192.0.2.1"]);
        // The client forged "1.2.3.4"; our edge (192.0.2.1) appended the real address.
        let header = ["1.2.3.4, 203.0.113.5, 192.0.2.1"];
        assert_eq!(
            rule.client_ip(ip("10.1.1.1"), header.into_iter()),
            ip("203.0.113.5")
        );
        // Several headers read as one list.
        let headers = ["1.2.3.4", "203.0.113.5"];
        assert_eq!(
            rule.client_ip(ip("10.1.1.1"), headers.into_iter()),
            ip("203.0.113.5")
        );
        // No header: the proxy itself.
        assert_eq!(
            rule.client_ip(ip("10.1.1.1"), std::iter::empty()),
            ip("10.1.1.1")
        );
        // Garbage at the right: the proxy.
        assert_eq!(
            rule.client_ip(ip("10.1.1.1"), ["1.2.3.4, nonsense"].into_iter()),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("2001:db8:1:2:bbbb::9")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(bucket(ip("198.51.100.7")), ip("198.51.100.7"));
    }

    #[test]
    fn networks_read_as_addresses_or_ranges() {
        assert_eq!(
            parse_network("10.0.0.1").unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert_eq!(
            parse_network("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(parse_network("ten").is_err());
    }
}
