/**
 * Our side: the Promise facade (`createNode` + `joinTopic`) on our loopback `Testbed`, relays off, direct
 * addresses only (`preset: "minimal"`), everything bound to 127.0.0.1.
 *
 * Variant `fast`: shorter bootstrap waits (the defaults are the Rust crate's: retry 1.5 s when no record is
 * found, poll 2 s), for apps that start nodes together.
 */
import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { createNode, type ConfigInput } from "distributed-topic-tracker"
import { Effect, Exit, Scope } from "effect"
import { deferred, type Peer, type System, type Variant } from "./system.js"

export const FAST_CONFIG: ConfigInput = {
  bootstrap: { noPeersRetryInterval: 200, discoveryPollInterval: 200, joinConfirmationWaitTime: 200, perPeerJoinSettleTime: 50 }
}

const startDht = async (size: number) => {
  const scope = Effect.runSync(Scope.make())
  const bed = await Effect.runPromise(Testbed.make({ size }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode)))
  return { bootstrap: bed.bootstrap, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const createPeer = async (bootstrap: unknown, variant: Variant): Promise<Peer> => {
  const node = await createNode({
    bootstrap: bootstrap as ReadonlyArray<string>,
    bindAddress: "127.0.0.1",
    gossip: { bindAddress: "127.0.0.1:0", relay: "disabled", preset: "minimal" },
    ...(variant === "fast" ? { config: FAST_CONFIG } : {})
  })
  const first = deferred<number>()
  let neighbours: () => ReadonlyArray<string> = () => []
  return {
    id: node.endpointId,
    // The facade bootstraps its DHT client in the background and does not say when it is done; the trial's
    // settle period (ANCHOR_SETTLE_MS, seconds on a 20-node loopback DHT) covers it.
    bootstrapped: async () => undefined,
    join: async (name) => {
      const topic = await node.joinTopic(name, "compare-secret", { wait: false })
      neighbours = () => topic.neighbors()
      void topic.joined().then(() => first.resolve(performance.now()), () => undefined)
    },
    firstNeighbour: first.promise,
    neighbours: () => neighbours(),
    close: () => node.close()
  }
}

export const system: System = { name: "ours", startDht, createPeer }
