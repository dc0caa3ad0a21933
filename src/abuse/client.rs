//! Who the client is: the peer's address, unless the peer is one of our own proxies, and
//! only then the address it reports in `X-Forwarded-For` (the rightmost hop that is not
//! one of ours). Ready-made "smart" extractors believe any client's header; this one
//! believes only `TRUSTED_PROXIES`. A hop that does not parse stands for a client of its
//! own, never for the proxy.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

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
            let Some(ip) = parse_hop(hop) else {
                // A hop that does not parse is a client of its own, never the proxy:
                // else one forged or odd hop puts its sender on the allowance everyone
                // behind the proxy shares, to use it up. Anything further left is the
                // client's own writing, so it is not believed either.
                return unparsable_client(hop);
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// A forwarded hop as proxies write it: `203.0.113.7`, `203.0.113.7:4711`,
/// `[2001:db8::1]:443`, `[2001:db8::1]`, or any of these in quotes.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            hop.strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<Ipv6Addr>()
                .ok()
                .map(IpAddr::V6)
        })
}

/// The stand-in address of a client whose hop did not parse: in the documentation range
/// 2001:db8::/32, which no real client has, with 32 bits of the hop's FNV-1a hash in the
/// /64 that [`bucket`] keeps, so different garbage is a different client.
fn unparsable_client(hop: &str) -> IpAddr {
    let hash = hop.trim().bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    IpAddr::V6(Ipv6Addr::new(
        0x2001,
        0x0db8,
        (hash >> 16) as u16,
        hash as u16,
        0,
        0,
        0,
        0,
    ))
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
    }

    #[test]
    fn an_unparsable_hop_is_a_client_of_its_own_never_the_proxy() {
        let rule = rule(&["10.0.0.0/8"]);
        let proxy = ip("10.1.1.1");
        let garbage = rule.client_ip(proxy, ["1.2.3.4, nonsense"].into_iter());
        assert_ne!(garbage, proxy, "the proxy's own allowance is not shared");
        assert_ne!(
            garbage,
            ip("1.2.3.4"),
            "what the client wrote left of it is not believed"
        );
        assert!(matches!(garbage, IpAddr::V6(v6) if v6.segments()[..2] == [0x2001, 0x0db8]));
        let other = rule.client_ip(proxy, ["other-nonsense"].into_iter());
        assert_ne!(
            bucket(other),
            bucket(garbage),
            "different garbage, different clients"
        );
        assert_eq!(
            rule.client_ip(proxy, ["nonsense"].into_iter()),
            garbage,
            "the same garbage, the same client"
        );
        // Behind a trusted hop, too.
        assert_eq!(
            rule.client_ip(proxy, ["nonsense, 10.2.2.2"].into_iter()),
            garbage
        );
    }

    #[test]
    fn hops_with_ports_brackets_or_quotes_are_read() {
        let rule = rule(&["10.0.0.0/8"]);
        let proxy = ip("10.1.1.1");
        for (hop, client) in [
            ("203.0.113.5:4711", "203.0.113.5"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("\"203.0.113.5\"", "203.0.113.5"),
        ] {
            assert_eq!(
                rule.client_ip(proxy, [hop].into_iter()),
                ip(client),
                "{hop}"
            );
        }
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
