//! Network guard: which addresses a collector may connect to, and a DNS resolver for reqwest that
//! refuses the others at connection time.
//!
//! A companies file is user input and a board can redirect anywhere, so a host could point at the
//! machine itself, the local network or a cloud metadata service. Unless the user passes
//! `--allow-private-network`, every host is resolved and refused when any of its addresses is
//! loopback, private, link-local, shared (CGNAT), multicast, unspecified, broadcast or
//! documentation-only. The check runs before each hop (redirects included, with a reason the user
//! can read) and again inside the connector's resolver, so a DNS answer that changes between the
//! check and the connection (DNS rebinding) is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why an address may not be fetched from, or None when it is a public unicast address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some("a cloud metadata address")
    } else if ip.is_private() {
        Some("a private-network address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("an unspecified (0.0.0.0/8) address")
    } else if ip.is_broadcast() || o[0] >= 240 {
        Some("a broadcast or reserved address")
    } else if ip.is_documentation() || (o[0] == 198 && (o[1] & 0xfe) == 18) {
        Some("a documentation or benchmarking address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("a cloud metadata address")
    } else if ip.is_unique_local() {
        Some("a private-network (unique local) address")
    } else if ip.is_unicast_link_local() {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        Some("a documentation address")
    } else if seg[0] == 0x0064 && seg[1] == 0xff9b {
        // NAT64 embeds an IPv4 address in the last 32 bits
        let v4 = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        forbidden_v4(v4)
    } else {
        None
    }
}

/// The refusal message a company's report carries.
pub fn refusal_message(host: &str, ip: IpAddr, reason: &str) -> String {
    format!(
        "refused {host} ({ip}): {reason}; collecting from private networks needs --allow-private-network"
    )
}

/// Resolve `host` (a name or an IP literal) to its addresses with the system resolver.
pub async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    Ok(tokio::net::lookup_host((h, port)).await?.collect())
}

/// Check every address `host` resolves to; Err(message) names the first forbidden one.
pub async fn check_host(host: &str, port: u16) -> Result<(), String> {
    let addrs = resolve(host, port)
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    if addrs.is_empty() {
        return Err(format!("cannot resolve {host}: no addresses"));
    }
    for a in &addrs {
        if let Some(reason) = forbidden_reason(a.ip()) {
            return Err(refusal_message(host, a.ip(), reason));
        }
    }
    Ok(())
}

/// reqwest resolver that drops nothing silently: a name with any forbidden address fails.
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve(&host, 0).await?;
            for a in &addrs {
                if let Some(reason) = forbidden_reason(a.ip()) {
                    return Err(refusal_message(&host, a.ip(), reason).into());
                }
            }
            let out: Addrs = Box::new(addrs.into_iter());
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        forbidden_reason(s.parse().unwrap()).is_some()
    }

    #[test]
    fn private_loopback_metadata_and_mapped_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(refused(a), "{a} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in ["8.8.8.8", "104.18.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!refused(a), "{a} should pass");
        }
    }

    #[tokio::test]
    async fn check_host_names_the_address_and_the_flag() {
        let e = check_host("127.0.0.1", 80).await.unwrap_err();
        assert!(
            e.contains("loopback") && e.contains("--allow-private-network"),
            "{e}"
        );
        let e = check_host("localhost", 80).await.unwrap_err();
        assert!(e.contains("loopback"), "{e}");
    }
}
