//! Pieces the gossip and node interop harnesses both need.

use iroh::{protocol::Router, Endpoint, TransportAddr};
use iroh_gossip::{net::Gossip, ALPN};

/// Prints one JSON object as one line. One `println!` per line, so lines of concurrent tasks never interleave.
pub fn emit(value: serde_json::Value) {
    println!("{value}");
}

/// Spawns iroh-gossip on `endpoint` and a router that accepts its ALPN. Keep the router: dropping it closes the
/// protocol; shut it down at exit.
pub fn spawn_gossip(endpoint: &Endpoint) -> (Gossip, Router) {
    let gossip = Gossip::builder().spawn(endpoint.clone());
    let router = Router::builder(endpoint.clone()).accept(ALPN, gossip.clone()).spawn();
    (gossip, router)
}

/// The endpoint's direct IP addresses as `ip:port` text (relay addresses left out), what the tests dial.
pub fn ip_addrs(endpoint: &Endpoint) -> Vec<String> {
    endpoint
        .addr()
        .addrs
        .iter()
        .filter_map(|a| match a {
            TransportAddr::Ip(ip) => Some(ip.to_string()),
            _ => None,
        })
        .collect()
}
