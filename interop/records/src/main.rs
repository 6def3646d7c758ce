//! Interop harness for the record layer of `distributed-topic-tracker` 0.3.5.
//!
//! Protocol: one JSON request per stdin line, one JSON reply per stdout line, in order. Every byte string is
//! lowercase hex. A request names its operation in `op`:
//!
//! * `derive`  {topic|topic_hex|topic_hash, secret|secret_hex, minute}
//!   -> topic_hash, initial_secret_hash, signing_seed, signing_pub, salt, target, enc_seed, enc_pub
//! * `sign`    {seed, topic.., minute, active_peers?, last_message_hashes?, secret..?}
//!   -> record, pub_key, signature, content; with a secret also `sealed` (the EncryptedRecord bytes = DHT value)
//! * `seal`    {record, topic.., secret.., minute} -> sealed (seals foreign record bytes with the real encryptor)
//! * `open`    {value, topic.., secret.., minute} -> record fields plus `verified` / `verify_error`
//! * `verify`  {record, topic.., minute} -> verified / verify_error (a plain signed record, no encryption)
//!
//! A failing request yields `{"error": "..."}` on its line; the process keeps going. Minutes may be JSON numbers
//! or decimal strings (u64 does not fit a JS number).

use std::io::{BufRead, Write};

use distributed_topic_tracker::{
    encryption_keypair, salt, signing_keypair, EncryptedRecord, Record, RotationHandle, TopicId,
    MAX_MESSAGE_HASHES, MAX_RECORD_PEERS,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Digest;

/// Same field order and types as the crate's `GossipRecordContent` (behind its `iroh-gossip` feature), so the
/// postcard bytes are identical: two fixed arrays of five 32-byte arrays, 320 bytes, no length prefixes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GossipRecordContent {
    active_peers: [[u8; 32]; MAX_RECORD_PEERS],
    last_message_hashes: [[u8; 32]; MAX_MESSAGE_HASHES],
}

type Reply = Result<Value, String>;

fn field<'a>(req: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    req.get(name).filter(|v| !v.is_null())
}

fn str_field<'a>(req: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    field(req, name)
        .ok_or_else(|| format!("missing field `{name}`"))?
        .as_str()
        .ok_or_else(|| format!("field `{name}` must be a string"))
}

fn hex_field(req: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    hex::decode(str_field(req, name)?).map_err(|e| format!("field `{name}`: {e}"))
}

fn hex32(s: &str, what: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(s).map_err(|e| format!("{what}: {e}"))?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("{what}: expected 32 bytes, got {}", b.len()))
}

fn minute(req: &Map<String, Value>) -> Result<u64, String> {
    match field(req, "minute") {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| "minute must be a u64".to_string()),
        Some(Value::String(s)) => s.parse::<u64>().map_err(|e| format!("minute: {e}")),
        _ => Err("missing field `minute`".to_string()),
    }
}

/// The topic as a name (string or hex bytes, hashed by the crate) or as a precomputed 32-byte hash.
fn topic(req: &Map<String, Value>) -> Result<TopicId, String> {
    if field(req, "topic_hash").is_some() {
        return Ok(TopicId::from_hash(&hex32(str_field(req, "topic_hash")?, "topic_hash")?));
    }
    if field(req, "topic_hex").is_some() {
        return Ok(TopicId::new(hex_field(req, "topic_hex")?));
    }
    Ok(TopicId::new(str_field(req, "topic")?.as_bytes().to_vec()))
}

fn secret(req: &Map<String, Value>) -> Result<Option<Vec<u8>>, String> {
    if field(req, "secret_hex").is_some() {
        return hex_field(req, "secret_hex").map(Some);
    }
    Ok(field(req, "secret").map(|_| str_field(req, "secret").map(|s| s.as_bytes().to_vec())).transpose()?)
}

/// `RecordPublisher::new` hashes the initial secret exactly like this (SHA-512, first 32 bytes). We cannot call
/// it: building a publisher also builds a DHT client with the public bootstrap routers.
fn initial_secret_hash(secret: &[u8]) -> [u8; 32] {
    sha2::Sha512::digest(secret)[..32].try_into().expect("64-byte digest")
}

fn encryption_key(req: &Map<String, Value>, topic_id: &TopicId, minute: u64) -> Result<ed25519_dalek::SigningKey, String> {
    let secret = secret(req)?.ok_or("missing field `secret`")?;
    Ok(encryption_keypair(topic_id, &RotationHandle::default(), initial_secret_hash(&secret), minute))
}

fn slots(req: &Map<String, Value>, name: &str) -> Result<[[u8; 32]; 5], String> {
    let mut out = [[0u8; 32]; 5];
    let Some(list) = field(req, name) else { return Ok(out) };
    let list = list.as_array().ok_or_else(|| format!("`{name}` must be an array"))?;
    if list.len() > 5 {
        return Err(format!("`{name}` has more than 5 entries"));
    }
    for (slot, item) in out.iter_mut().zip(list) {
        *slot = hex32(item.as_str().ok_or_else(|| format!("`{name}` entries must be hex strings"))?, name)?;
    }
    Ok(out)
}

fn hex_list(list: &[[u8; 32]]) -> Value {
    Value::Array(list.iter().map(|b| Value::String(hex::encode(b))).collect())
}

/// Every field of a record, read back through the crate's accessors plus its serialized form.
fn describe(record: &Record) -> Map<String, Value> {
    let bytes = record.to_bytes();
    let content = &bytes[32 + 8 + 32..bytes.len() - 64];
    let mut out = Map::new();
    out.insert("record".into(), json!(hex::encode(&bytes)));
    out.insert("topic_hash".into(), json!(hex::encode(record.topic())));
    out.insert("minute".into(), json!(record.unix_minute().to_string()));
    out.insert("pub_key".into(), json!(hex::encode(record.pub_key())));
    out.insert("signature".into(), json!(hex::encode(record.signature())));
    out.insert("content".into(), json!(hex::encode(content)));
    match record.content::<GossipRecordContent>() {
        Ok(c) => {
            out.insert("active_peers".into(), hex_list(&c.active_peers));
            out.insert("last_message_hashes".into(), hex_list(&c.last_message_hashes));
        }
        Err(e) => {
            out.insert("content_error".into(), json!(e.to_string()));
        }
    }
    out
}

fn put_verify(out: &mut Map<String, Value>, record: &Record, topic_id: &TopicId, minute: u64) {
    match record.verify(&topic_id.hash(), minute) {
        Ok(()) => {
            out.insert("verified".into(), json!(true));
        }
        Err(e) => {
            out.insert("verified".into(), json!(false));
            out.insert("verify_error".into(), json!(e.to_string()));
        }
    }
}

fn derive(req: &Map<String, Value>) -> Reply {
    let topic_id = topic(req)?;
    let m = minute(req)?;
    let signing = signing_keypair(&topic_id, m);
    let slot_salt = salt(&topic_id, m);
    let signing_pub = signing.verifying_key().to_bytes();
    let target = mainline::MutableItem::target_from_key(&signing_pub, Some(&slot_salt));
    let mut out = json!({
        "topic_hash": hex::encode(topic_id.hash()),
        "minute": m.to_string(),
        "signing_seed": hex::encode(signing.to_bytes()),
        "signing_pub": hex::encode(signing_pub),
        "salt": hex::encode(slot_salt),
        "target": hex::encode(target.as_bytes()),
    });
    if let Some(secret) = secret(req)? {
        let enc = encryption_keypair(&topic_id, &RotationHandle::default(), initial_secret_hash(&secret), m);
        out["initial_secret_hash"] = json!(hex::encode(initial_secret_hash(&secret)));
        out["enc_seed"] = json!(hex::encode(enc.to_bytes()));
        out["enc_pub"] = json!(hex::encode(enc.verifying_key().to_bytes()));
    }
    Ok(out)
}

fn seal_into(out: &mut Map<String, Value>, req: &Map<String, Value>, record: &Record, topic_id: &TopicId, m: u64) -> Result<(), String> {
    let key = encryption_key(req, topic_id, m)?;
    let sealed = record.encrypt(&key).to_bytes().map_err(|e| format!("seal: {e}"))?;
    out.insert("sealed".into(), json!(hex::encode(sealed)));
    Ok(())
}

fn sign(req: &Map<String, Value>) -> Reply {
    let topic_id = topic(req)?;
    let m = minute(req)?;
    let node_key = ed25519_dalek::SigningKey::from_bytes(&hex32(str_field(req, "seed")?, "seed")?);
    let content = GossipRecordContent {
        active_peers: slots(req, "active_peers")?,
        last_message_hashes: slots(req, "last_message_hashes")?,
    };
    let record = Record::sign(topic_id.hash(), m, content, &node_key).map_err(|e| format!("sign: {e}"))?;
    let mut out = describe(&record);
    if secret(req)?.is_some() {
        seal_into(&mut out, req, &record, &topic_id, m)?;
    }
    Ok(Value::Object(out))
}

fn seal(req: &Map<String, Value>) -> Reply {
    let topic_id = topic(req)?;
    let m = minute(req)?;
    let record = Record::from_bytes(hex_field(req, "record")?).map_err(|e| format!("record: {e}"))?;
    let mut out = Map::new();
    seal_into(&mut out, req, &record, &topic_id, m)?;
    Ok(Value::Object(out))
}

fn open(req: &Map<String, Value>) -> Reply {
    let topic_id = topic(req)?;
    let m = minute(req)?;
    let key = encryption_key(req, &topic_id, m)?;
    let encrypted = EncryptedRecord::from_bytes(hex_field(req, "value")?).map_err(|e| format!("decode: {e}"))?;
    let record = encrypted.decrypt(&key).map_err(|e| format!("decrypt: {e}"))?;
    let mut out = describe(&record);
    put_verify(&mut out, &record, &topic_id, m);
    Ok(Value::Object(out))
}

fn verify(req: &Map<String, Value>) -> Reply {
    let topic_id = topic(req)?;
    let m = minute(req)?;
    let record = Record::from_bytes(hex_field(req, "record")?).map_err(|e| format!("record: {e}"))?;
    let mut out = describe(&record);
    put_verify(&mut out, &record, &topic_id, m);
    Ok(Value::Object(out))
}

fn handle(line: &str) -> Reply {
    let req: Value = serde_json::from_str(line).map_err(|e| format!("bad json: {e}"))?;
    let req = req.as_object().ok_or("request must be a JSON object")?;
    match str_field(req, "op")? {
        "derive" => derive(req),
        "sign" => sign(req),
        "seal" => seal(req),
        "open" => open(req),
        "verify" => verify(req),
        other => Err(format!("unknown op `{other}`")),
    }
}

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin is not UTF-8");
        if line.trim().is_empty() {
            continue;
        }
        let reply = handle(&line).unwrap_or_else(|e| json!({ "error": e }));
        writeln!(stdout, "{reply}").expect("stdout closed");
        stdout.flush().expect("stdout closed");
    }
}
