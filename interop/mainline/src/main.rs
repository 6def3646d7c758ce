//! Interop harness for the mainline DHT (`mainline` 7, the crate distributed-topic-tracker 0.3.5 uses).
//!
//! Loopback only: every address given on the command line must be an IPv4 loopback literal, every node binds
//! 127.0.0.1, and nothing ever falls back to the public bootstrap routers.
//!
//! * `serve <count> [--bootstrap a:p,..] [--timeout-ms n]`
//!   Starts `count` storing (server-mode) nodes. Without `--bootstrap` they form a seeded testnet of their own;
//!   with it, each node joins the given network (plus the nodes started before it). Prints one JSON line
//!   `{"nodes":[{"addr":"127.0.0.1:port","id":"<hex>"},..]}` and stays up until stdin closes.
//! * `client --bootstrap a:p,.. [--timeout-ms n]`
//!   A client node. Reads one JSON request per stdin line and answers one JSON line each:
//!   - `{"op":"put","seed":hex32,"salt":hex?,"value":hex,"seq":"i64","cas":"i64"?}`
//!     -> `{"target":hex20}` or `{"error":..}`
//!   - `{"op":"get","pubkey":hex32,"salt":hex?,"more_recent_than":"i64"?}`
//!     -> `{"target":hex20,"items":[{"key","value","seq","sig","salt"}..]}` (seq as a decimal string)
//!   mainline itself verifies every item's signature before handing it out.
//! * `item`  (offline, no sockets) JSON lines `{"seed","salt"?,"value","seq"}` -> the signed MutableItem
//!   (`MutableItem::new`) as `{"key","value","seq","sig","salt","target"}`: known answers for BEP44 signing.
#![allow(deprecated)] // the blocking Dht API is deprecated in favour of the async one; it is simpler here

use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use mainline::{Dht, MutableItem, SigningKey, Testnet};
use serde_json::{json, Map, Value};

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("dtt-interop-mainline: {msg}");
    std::process::exit(2)
}

struct Options {
    bootstrap: Option<Vec<SocketAddrV4>>,
    timeout: Option<Duration>,
    positional: Vec<String>,
}

/// Parses `--bootstrap` strictly: IPv4 literals on a loopback address, nothing that could resolve elsewhere.
fn parse_options(args: &[String]) -> Options {
    let mut opts = Options { bootstrap: None, timeout: None, positional: vec![] };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bootstrap" => {
                let list = it.next().unwrap_or_else(|| fail("--bootstrap needs a value"));
                let addrs = list
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        let addr: SocketAddrV4 = s.parse().unwrap_or_else(|e| fail(format!("bad address {s}: {e}")));
                        if !addr.ip().is_loopback() {
                            fail(format!("refusing non-loopback address {addr}"));
                        }
                        addr
                    })
                    .collect::<Vec<_>>();
                opts.bootstrap = Some(addrs);
            }
            "--timeout-ms" => {
                let ms = it.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| fail("--timeout-ms needs a number"));
                opts.timeout = Some(Duration::from_millis(ms));
            }
            other => opts.positional.push(other.to_string()),
        }
    }
    opts
}

fn node_json(dht: &Dht) -> Value {
    let info = dht.info();
    json!({ "addr": info.local_addr().to_string(), "id": hex::encode(info.id().as_bytes()) })
}

fn wait_for_stdin_eof() {
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
}

fn serve(opts: Options) {
    let count: usize = opts
        .positional
        .first()
        .and_then(|s| s.parse().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| fail("serve needs a node count between 1 and 64"));
    let nodes: Vec<Dht> = match &opts.bootstrap {
        None => Testnet::builder(count)
            .bind_address(Ipv4Addr::LOCALHOST)
            .build()
            .unwrap_or_else(|e| fail(format!("testnet: {e}")))
            .nodes,
        Some(bootstrap) => {
            let mut known = bootstrap.clone();
            let mut nodes = Vec::with_capacity(count);
            for _ in 0..count {
                let mut builder = Dht::builder();
                builder.server_mode().bootstrap(&known).bind_address(Ipv4Addr::LOCALHOST);
                if let Some(t) = opts.timeout {
                    builder.request_timeout(t);
                }
                let node = builder.build().unwrap_or_else(|e| fail(format!("node: {e}")));
                // Block until the bootstrap query has run, so the network already knows this node.
                node.bootstrapped();
                known.push(node.info().local_addr());
                nodes.push(node);
            }
            nodes
        }
    };
    let line = json!({ "nodes": nodes.iter().map(node_json).collect::<Vec<_>>() });
    println!("{line}");
    std::io::stdout().flush().expect("stdout closed");
    wait_for_stdin_eof();
}

fn str_field<'a>(req: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    req.get(name)
        .ok_or_else(|| format!("missing field `{name}`"))?
        .as_str()
        .ok_or_else(|| format!("field `{name}` must be a string"))
}

fn hex_field(req: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    hex::decode(str_field(req, name)?).map_err(|e| format!("field `{name}`: {e}"))
}

fn opt_hex(req: &Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>, String> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => hex_field(req, name).map(Some),
    }
}

fn hex32(req: &Map<String, Value>, name: &str) -> Result<[u8; 32], String> {
    hex_field(req, name)?.try_into().map_err(|_| format!("field `{name}` must be 32 bytes"))
}

/// seq and cas are i64 on the wire; JS cannot hold them as numbers, so they travel as decimal strings.
fn opt_i64(req: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|e| format!("field `{name}`: {e}")),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| format!("field `{name}` must be an i64")),
        Some(_) => Err(format!("field `{name}` must be a decimal string")),
    }
}

fn item_json(item: &MutableItem) -> Value {
    json!({
        "key": hex::encode(item.key()),
        "value": hex::encode(item.value()),
        "seq": item.seq().to_string(),
        "sig": hex::encode(item.signature()),
        "salt": item.salt().map(hex::encode),
    })
}

fn put(dht: &Dht, req: &Map<String, Value>) -> Result<Value, String> {
    let signer = SigningKey::from_bytes(&hex32(req, "seed")?);
    let salt = opt_hex(req, "salt")?;
    let value = hex_field(req, "value")?;
    let seq = opt_i64(req, "seq")?.ok_or("missing field `seq`")?;
    let cas = opt_i64(req, "cas")?;
    let item = MutableItem::new(signer, &value, seq, salt.as_deref());
    let target = dht.put_mutable(item.clone(), cas).map_err(|e| format!("put: {e:?}"))?;
    Ok(json!({ "target": hex::encode(target.as_bytes()), "item": item_json(&item) }))
}

fn get(dht: &Dht, req: &Map<String, Value>) -> Result<Value, String> {
    let key = hex32(req, "pubkey")?;
    let salt = opt_hex(req, "salt")?;
    let more_recent_than = opt_i64(req, "more_recent_than")?;
    let target = MutableItem::target_from_key(&key, salt.as_deref());
    let items: Vec<Value> = dht.get_mutable(&key, salt.as_deref(), more_recent_than).map(|i| item_json(&i)).collect();
    Ok(json!({ "target": hex::encode(target.as_bytes()), "items": items }))
}

fn sign_item(req: &Map<String, Value>) -> Result<Value, String> {
    let signer = SigningKey::from_bytes(&hex32(req, "seed")?);
    let salt = opt_hex(req, "salt")?;
    let seq = opt_i64(req, "seq")?.ok_or("missing field `seq`")?;
    let item = MutableItem::new(signer, &hex_field(req, "value")?, seq, salt.as_deref());
    let mut out = item_json(&item);
    out["target"] = json!(hex::encode(item.target().as_bytes()));
    Ok(out)
}

/// Answers stdin JSON lines with `handler` until stdin closes.
fn serve_lines(handler: impl Fn(&Map<String, Value>) -> Result<Value, String>) {
    let mut stdout = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap_or_else(|e| fail(format!("stdin: {e}")));
        if line.trim().is_empty() {
            continue;
        }
        let reply = serde_json::from_str::<Value>(&line)
            .map_err(|e| format!("bad json: {e}"))
            .and_then(|req| handler(req.as_object().ok_or("request must be a JSON object")?))
            .unwrap_or_else(|e| json!({ "error": e }));
        writeln!(stdout, "{reply}").expect("stdout closed");
        stdout.flush().expect("stdout closed");
    }
}

fn client(opts: Options) {
    let bootstrap = opts.bootstrap.filter(|b| !b.is_empty()).unwrap_or_else(|| fail("client needs --bootstrap"));
    let mut builder = Dht::builder();
    builder.bootstrap(&bootstrap).bind_address(Ipv4Addr::LOCALHOST);
    if let Some(t) = opts.timeout {
        builder.request_timeout(t);
    }
    let dht = builder.build().unwrap_or_else(|e| fail(format!("client: {e}")));
    dht.bootstrapped();
    serve_lines(|req| match str_field(req, "op")? {
        "put" => put(&dht, req),
        "get" => get(&dht, req),
        other => Err(format!("unknown op `{other}`")),
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = args.split_first().unwrap_or_else(|| fail("usage: serve <count> | client --bootstrap .. | item"));
    let opts = parse_options(rest);
    match cmd.as_str() {
        "serve" => serve(opts),
        "client" => client(opts),
        "item" => serve_lines(sign_item),
        other => fail(format!("unknown command {other}")),
    }
}
