//! A distributed-topic-tracker 0.3.5 node as its users run it: iroh endpoint + iroh-gossip + the crate's
//! auto-discovery (records in the mainline DHT, publisher, bubble and message-overlap merges).
//!
//! Usage: dtt-interop-node --bind <ipv4> --bootstrap <host:port> --topic <name> --secret <secret>
//!                         [--seed <hex32>] [--merge-secs <n>]
//!
//! * The iroh endpoint binds `<ipv4>:0`, relays off. Its address is published to (and peers' are resolved from)
//!   the DHT at `--bootstrap` through iroh-mainline-address-lookup, unfiltered (the DHT is private).
//! * The crate's own record DHT client always bootstraps from mainline's public router names; the interop tests
//!   run this binary in a mount namespace whose /etc/hosts points those names at the same private DHT.
//! * `--merge-secs n` shortens both merge actors' timers (first run after n s, then every n s, jitter n s).
//!
//! stdout, one JSON object per line: `started` (id, addrs), `joined`, `up`/`down` (peer), `received` (from,
//! content), `sent`/`send-failed` (content), `records` (minute, publishers), `error` (reason).
//! stdin, one JSON object per line: `{"op":"say","text":..}` broadcasts text; `{"op":"records","minute_offset":k}`
//! reads the slot of minute now+k with a second, independent record client and lists the publishers whose
//! records decrypted and verified. Endpoint ids are lowercase hex.
use std::{collections::BTreeSet, net::Ipv4Addr, sync::Arc, time::Duration};

use anyhow::{anyhow, bail, Context, Result};
use distributed_topic_tracker::{
    unix_minute, AutoDiscoveryGossip, BubbleMergeConfig, Config, MergeConfig, MessageOverlapMergeConfig,
    RecordPublisher, TopicId,
};
use dtt_interop_harness::{emit, ip_addrs, spawn_gossip};
use iroh::{address_lookup::AddrFilter, endpoint::presets, Endpoint, RelayMode, SecretKey};
use iroh_gossip::api::Event;
use iroh_mainline_address_lookup::DhtAddressLookup;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    sync::Mutex,
};
use tokio_util::sync::CancellationToken;

struct Args {
    bind: Ipv4Addr,
    bootstrap: String,
    topic: String,
    secret: String,
    seed: Option<[u8; 32]>,
    merge_secs: Option<u64>,
}

fn parse_args() -> Result<Args> {
    let mut bind = None;
    let mut bootstrap = None;
    let mut topic = None;
    let mut secret = None;
    let mut seed = None;
    let mut merge_secs = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bind" => bind = Some(value.parse::<Ipv4Addr>().context("--bind must be an IPv4 address")?),
            "--bootstrap" => bootstrap = Some(value),
            "--topic" => topic = Some(value),
            "--secret" => secret = Some(value),
            "--seed" => {
                let bytes: [u8; 32] =
                    hex::decode(&value)?.try_into().map_err(|_| anyhow!("--seed must be 32 bytes of hex"))?;
                seed = Some(bytes)
            }
            "--merge-secs" => merge_secs = Some(value.parse::<u64>().context("--merge-secs")?),
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(Args {
        bind: bind.ok_or_else(|| anyhow!("--bind is required"))?,
        bootstrap: bootstrap.ok_or_else(|| anyhow!("--bootstrap is required"))?,
        topic: topic.ok_or_else(|| anyhow!("--topic is required"))?,
        secret: secret.ok_or_else(|| anyhow!("--secret is required"))?,
        seed,
        merge_secs,
    })
}

fn config(merge_secs: Option<u64>) -> Config {
    let Some(secs) = merge_secs else { return Config::default() };
    let every = Duration::from_secs(secs);
    let bubble = BubbleMergeConfig::builder().initial_interval(every).base_interval(every).max_jitter(every).build();
    let overlap =
        MessageOverlapMergeConfig::builder().initial_interval(every).base_interval(every).max_jitter(every).build();
    Config::builder()
        .merge_config(MergeConfig::builder().bubble_merge(bubble).message_overlap_merge(overlap).build())
        .build()
}

/// Publishers (hex endpoint ids) of the records in one slot that decrypt and verify with our topic and secret.
async fn read_slot(reader: &RecordPublisher, minute: u64) -> Result<BTreeSet<String>> {
    let records = reader.get_records(minute, CancellationToken::new()).await?;
    Ok(records.iter().map(|r| hex::encode(r.pub_key())).collect())
}

async fn handle_command(line: &str, sender: &distributed_topic_tracker::GossipSender, reader: &Mutex<RecordPublisher>) {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return emit(json!({"event": "error", "reason": format!("bad request: {e}")})),
    };
    match request.get("op").and_then(Value::as_str) {
        Some("say") => {
            let text = request.get("text").and_then(Value::as_str).unwrap_or_default().to_string();
            match sender.broadcast(text.clone().into_bytes()).await {
                Ok(()) => emit(json!({"event": "sent", "content": text})),
                Err(e) => emit(json!({"event": "send-failed", "content": text, "reason": e.to_string()})),
            }
        }
        Some("records") => {
            let offset = request.get("minute_offset").and_then(Value::as_i64).unwrap_or(0);
            let minute = unix_minute(offset);
            match read_slot(&*reader.lock().await, minute).await {
                Ok(publishers) => emit(json!({"event": "records", "minute": minute, "publishers": publishers})),
                Err(e) => emit(json!({"event": "error", "reason": format!("records: {e}")})),
            }
        }
        _ => emit(json!({"event": "error", "reason": "unknown op"})),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let secret_key = match args.seed {
        Some(seed) => SecretKey::from_bytes(&seed),
        None => SecretKey::generate(),
    };
    let mut dht = n0_mainline::DhtBuilder::default();
    dht.bootstrap(&[args.bootstrap.clone()]);
    let lookup = DhtAddressLookup::builder().dht_builder(dht).addr_filter(AddrFilter::unfiltered());
    let endpoint = Endpoint::builder(presets::Minimal)
        .secret_key(secret_key.clone())
        .relay_mode(RelayMode::Disabled)
        .clear_addr_filter()
        .address_lookup(lookup)
        .clear_ip_transports()
        .bind_addr((args.bind, 0))?
        .bind()
        .await
        .context("bind")?;
    let (gossip, router) = spawn_gossip(&endpoint);
    let addrs = ip_addrs(&endpoint);
    emit(json!({"event": "started", "id": hex::encode(endpoint.id().as_bytes()), "addrs": addrs}));

    // The record key is the endpoint key: peers dial a record's pub_key as an endpoint id.
    let signing_key = ed25519_dalek::SigningKey::from_bytes(&secret_key.to_bytes());
    let topic_id = TopicId::new(args.topic.clone());
    let cfg = config(args.merge_secs);
    let publisher = RecordPublisher::new(topic_id.clone(), signing_key.clone(), None, args.secret.clone(), cfg.clone());
    // A second client for the `records` op, so a slot read never waits behind the topic's own DHT calls.
    let reader = Arc::new(Mutex::new(RecordPublisher::new(topic_id, signing_key, None, args.secret.clone(), cfg)));
    let topic = gossip.subscribe_and_join_with_auto_discovery_no_wait(publisher).await?;
    let (sender, mut receiver) = topic.split().await?;

    tokio::spawn(async move {
        let mut joined = false;
        loop {
            match receiver.next().await {
                Ok(Event::NeighborUp(peer)) => {
                    if !joined {
                        joined = true;
                        emit(json!({"event": "joined"}));
                    }
                    emit(json!({"event": "up", "peer": hex::encode(peer.as_bytes())}))
                }
                Ok(Event::NeighborDown(peer)) => emit(json!({"event": "down", "peer": hex::encode(peer.as_bytes())})),
                Ok(Event::Received(msg)) => emit(json!({
                    "event": "received",
                    "from": hex::encode(msg.delivered_from.as_bytes()),
                    "content": String::from_utf8_lossy(&msg.content),
                })),
                Ok(Event::Lagged) => emit(json!({"event": "lagged"})),
                Err(e) => {
                    emit(json!({"event": "error", "reason": format!("receiver: {e:?}")}));
                    break;
                }
            }
        }
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        handle_command(&line, &sender, &reader).await;
    }
    // stdin closed: the driver is done with us.
    drop(topic);
    router.shutdown().await.ok();
    Ok(())
}
