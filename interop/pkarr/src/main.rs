//! Interop harness for iroh's pkarr endpoint records (`iroh-dns`).
//!
//! Protocol: one JSON request per stdin line, one JSON reply per stdout line. Byte strings are lowercase hex;
//! timestamps (the BEP44 seq, microseconds) are decimal strings.
//!
//! * `sign`  {seed, relays: [url], addrs: ["ip:port"], user_data?, ttl}
//!   -> public_key, z32, timestamp, signature, packet (the DNS bytes = BEP44 `v`), txt (the TXT strings)
//! * `parse` {public_key, timestamp, signature, packet}
//!   -> verified (signature check as `SignedPacket::from_bytes` does it), and when the packet parses:
//!   relays, addrs, user_data as `EndpointInfo::from_pkarr_signed_packet` reads them; otherwise `error`.
//!
//! A failing request yields `{"error": "..."}`; the process keeps going.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::str::FromStr;

use iroh_base::{EndpointId, RelayUrl, SecretKey};
use iroh_dns::endpoint_info::{EndpointData, EndpointInfo, UserData};
use iroh_dns::pkarr::{SignedPacket, Timestamp};
use serde_json::{json, Map, Value};

type Reply = Result<Value, String>;

fn hex_field(req: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let s = req.get(name).and_then(Value::as_str).ok_or(format!("missing {name}"))?;
    hex::decode(s).map_err(|e| format!("{name}: {e}"))
}

fn strings(req: &Map<String, Value>, name: &str) -> Vec<String> {
    req.get(name)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn sign(req: &Map<String, Value>) -> Reply {
    let seed: [u8; 32] = hex_field(req, "seed")?.try_into().map_err(|_| "seed must be 32 bytes")?;
    let secret = SecretKey::from_bytes(&seed);
    let mut data = EndpointData::default();
    for url in strings(req, "relays") {
        data.add_relay_url(RelayUrl::from_str(&url).map_err(|e| format!("relay: {e}"))?);
    }
    let addrs = strings(req, "addrs")
        .iter()
        .map(|a| SocketAddr::from_str(a).map_err(|e| format!("addr {a}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    data.add_ip_addrs(addrs);
    if let Some(u) = req.get("user_data").and_then(Value::as_str) {
        data.set_user_data(Some(UserData::from_str(u).map_err(|e| e.to_string())?));
    }
    let ttl = req.get("ttl").and_then(Value::as_u64).unwrap_or(30) as u32;
    let info = EndpointInfo::from_parts(secret.public(), data);
    let packet = info.to_pkarr_signed_packet(&secret, ttl).map_err(|e| e.to_string())?;
    Ok(json!({
        "public_key": hex::encode(packet.public_key().as_bytes()),
        "z32": secret.public().to_z32(),
        "timestamp": packet.timestamp().as_micros().to_string(),
        "signature": hex::encode(packet.signature().to_bytes()),
        "packet": hex::encode(packet.encoded_packet()),
        "txt": info.to_txt_strings(),
    }))
}

fn parse(req: &Map<String, Value>) -> Reply {
    let public_key = hex_field(req, "public_key")?;
    let signature = hex_field(req, "signature")?;
    let packet = hex_field(req, "packet")?;
    let timestamp = req
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or("missing timestamp")?
        .parse::<u64>()
        .map_err(|e| e.to_string())?;
    let mut bytes = public_key.clone();
    bytes.extend_from_slice(&signature);
    bytes.extend_from_slice(&timestamp.to_be_bytes());
    bytes.extend_from_slice(&packet);
    let verified = SignedPacket::from_bytes(&bytes).is_ok();
    let signed = match SignedPacket::from_parts_unchecked(&public_key, &signature, Timestamp::from_micros(timestamp), &packet) {
        Ok(p) => p,
        Err(e) => return Ok(json!({ "verified": verified, "error": format!("packet: {e}") })),
    };
    match EndpointInfo::from_pkarr_signed_packet(&signed) {
        Ok(info) => {
            let id: EndpointId = info.endpoint_id;
            Ok(json!({
                "verified": verified,
                "endpoint_id": hex::encode(id.as_bytes()),
                "relays": info.relay_urls().map(|u| u.to_string()).collect::<Vec<_>>(),
                "addrs": info.ip_addrs().map(|a| a.to_string()).collect::<Vec<_>>(),
                "user_data": info.user_data().map(|u| u.to_string()),
            }))
        }
        Err(e) => Ok(json!({ "verified": verified, "error": format!("endpoint info: {e}") })),
    }
}

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(req)) => match req.get("op").and_then(Value::as_str) {
                Some("sign") => sign(&req),
                Some("parse") => parse(&req),
                other => Err(format!("unknown op {other:?}")),
            },
            _ => Err("request must be a JSON object".to_string()),
        };
        let value = reply.unwrap_or_else(|e| json!({ "error": e }));
        let _ = writeln!(out, "{value}");
        let _ = out.flush();
    }
}
