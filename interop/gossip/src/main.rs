//! A real iroh-gossip 0.101 node driven over stdin/stdout, for the TypeScript port's interop tests.
//!
//! Loopback only: relays disabled, no DNS/pkarr lookup, the IP transport bound to 127.0.0.1. Peers' addresses
//! come in as JSON commands and go into a `MemoryLookup`, so `subscribe` can dial by endpoint id.
//!
//! stdin, one JSON object per line:
//!   {"cmd":"addr","id":HEX,"addrs":["127.0.0.1:1234"]}
//!   {"cmd":"join","topic":HEX,"peers":[HEX...]}
//!   {"cmd":"broadcast","topic":HEX,"data":HEX}          (also "broadcast_neighbors")
//!   {"cmd":"join_peers","topic":HEX,"peers":[HEX...]}
//!   {"cmd":"leave","topic":HEX}
//!   {"cmd":"shutdown"}
//! stdout, one JSON object per line:
//!   {"type":"ready","id":HEX,"addrs":[...]}
//!   {"type":"event","topic":HEX,"kind":"NeighborUp"|"NeighborDown","peer":HEX}
//!   {"type":"event","topic":HEX,"kind":"Received","data":HEX,"from":HEX,"scope":"Swarm(Round(0))"}
//!   {"type":"event","topic":HEX,"kind":"Lagged"}
//!   {"type":"ok","cmd":NAME} / {"type":"error","message":TEXT}
use std::{collections::HashMap, str::FromStr};

use anyhow::{anyhow, Context, Result};
use dtt_interop_harness::{emit, ip_addrs, spawn_gossip};
use iroh::{
    address_lookup::memory::MemoryLookup, endpoint::presets, Endpoint, EndpointAddr, EndpointId, RelayMode,
    SecretKey, TransportAddr,
};
use iroh_gossip::{
    api::{Event, GossipSender},
    TopicId,
};
use n0_future::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
enum Cmd {
    Addr { id: String, addrs: Vec<String> },
    Join { topic: String, peers: Vec<String> },
    Broadcast { topic: String, data: String },
    BroadcastNeighbors { topic: String, data: String },
    JoinPeers { topic: String, peers: Vec<String> },
    Leave { topic: String },
    Shutdown,
}

fn topic_of(hex_str: &str) -> Result<TopicId> {
    let bytes: [u8; 32] = hex::decode(hex_str)?.try_into().map_err(|_| anyhow!("topic must be 32 bytes"))?;
    Ok(TopicId::from_bytes(bytes))
}

fn id_of(hex_str: &str) -> Result<EndpointId> {
    EndpointId::from_str(hex_str).map_err(|e| anyhow!("bad endpoint id: {e}"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let secret = match std::env::args().nth(1) {
        Some(hex_key) => {
            let bytes: [u8; 32] =
                hex::decode(hex_key)?.try_into().map_err(|_| anyhow!("secret key must be 32 bytes"))?;
            SecretKey::from_bytes(&bytes)
        }
        None => SecretKey::generate(),
    };
    let lookup = MemoryLookup::new();
    let endpoint = Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .relay_mode(RelayMode::Disabled)
        .address_lookup(lookup.clone())
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")?
        .bind()
        .await
        .context("bind")?;
    let (gossip, router) = spawn_gossip(&endpoint);
    let addrs = ip_addrs(&endpoint);
    emit(json!({"type": "ready", "id": endpoint.id().to_string(), "addrs": addrs}));

    let mut senders: HashMap<TopicId, (GossipSender, tokio::task::JoinHandle<()>)> = HashMap::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let cmd: Cmd = match serde_json::from_str(&line) {
            Ok(cmd) => cmd,
            Err(e) => {
                emit(json!({"type": "error", "message": format!("bad command: {e}")}));
                continue;
            }
        };
        let result: Result<&str> = async {
            match cmd {
                Cmd::Addr { id, addrs } => {
                    let parsed = addrs
                        .iter()
                        .map(|a| a.parse().map(TransportAddr::Ip))
                        .collect::<Result<Vec<_>, _>>()?;
                    lookup.add_endpoint_info(EndpointAddr::from_parts(id_of(&id)?, parsed));
                    Ok("addr")
                }
                Cmd::Join { topic, peers } => {
                    let topic_id = topic_of(&topic)?;
                    let peers = peers.iter().map(|p| id_of(p)).collect::<Result<Vec<_>>>()?;
                    let (sender, mut receiver) = gossip.subscribe(topic_id, peers).await?.split();
                    let task = tokio::spawn(async move {
                        while let Some(event) = receiver.next().await {
                            let out = match event {
                                Ok(Event::NeighborUp(peer)) => {
                                    json!({"type": "event", "topic": topic, "kind": "NeighborUp", "peer": peer.to_string()})
                                }
                                Ok(Event::NeighborDown(peer)) => {
                                    json!({"type": "event", "topic": topic, "kind": "NeighborDown", "peer": peer.to_string()})
                                }
                                Ok(Event::Received(msg)) => json!({
                                    "type": "event", "topic": topic, "kind": "Received",
                                    "data": hex::encode(&msg.content),
                                    "from": msg.delivered_from.to_string(),
                                    "scope": format!("{:?}", msg.scope),
                                }),
                                Ok(Event::Lagged) => json!({"type": "event", "topic": topic, "kind": "Lagged"}),
                                Err(e) => json!({"type": "error", "message": format!("receiver: {e}")}),
                            };
                            emit(out);
                        }
                    });
                    if let Some((_, old)) = senders.insert(topic_id, (sender, task)) {
                        old.abort();
                    }
                    Ok("join")
                }
                Cmd::Broadcast { topic, data } => {
                    let (sender, _) = senders.get(&topic_of(&topic)?).ok_or_else(|| anyhow!("not joined"))?;
                    sender.broadcast(hex::decode(data)?.into()).await?;
                    Ok("broadcast")
                }
                Cmd::BroadcastNeighbors { topic, data } => {
                    let (sender, _) = senders.get(&topic_of(&topic)?).ok_or_else(|| anyhow!("not joined"))?;
                    sender.broadcast_neighbors(hex::decode(data)?.into()).await?;
                    Ok("broadcast_neighbors")
                }
                Cmd::JoinPeers { topic, peers } => {
                    let (sender, _) = senders.get(&topic_of(&topic)?).ok_or_else(|| anyhow!("not joined"))?;
                    let peers = peers.iter().map(|p| id_of(p)).collect::<Result<Vec<_>>>()?;
                    sender.join_peers(peers).await?;
                    Ok("join_peers")
                }
                Cmd::Leave { topic } => {
                    // Dropping both halves makes the actor quit the topic (peers get Disconnect).
                    if let Some((sender, task)) = senders.remove(&topic_of(&topic)?) {
                        drop(sender);
                        task.abort();
                    }
                    Ok("leave")
                }
                Cmd::Shutdown => Ok("shutdown"),
            }
        }
        .await;
        match result {
            Ok("shutdown") => break,
            Ok(name) => emit(json!({"type": "ok", "cmd": name})),
            Err(e) => emit(json!({"type": "error", "message": format!("{e:#}")})),
        }
    }
    for (_, (_, task)) in senders.drain() {
        task.abort();
    }
    router.shutdown().await.ok();
    emit(json!({"type": "ok", "cmd": "shutdown"}));
    Ok(())
}
