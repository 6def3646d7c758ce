/**
 * Our side: the Promise facade (`createNode` + `joinTopic`) on our loopback `Testbed`, relays off, direct
 * addresses only (`preset: "minimal"`), everything bound to 127.0.0.1.
 *
 * Variant `fast`: `FAST_CONFIG` (fastConfig.ts).
 */
import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { createNode } from "distributed-topic-tracker"
import { Effect, Exit, Scope } from "effect"
import { FAST_CONFIG } from "./fastConfig.js"
import { deferred, type Peer, type System, type Variant } from "./system.js"

const startDht = async (size: number) => {
  const scope = Effect.runSync(Scope.make())
  const bed = await Effect.runPromise(
    Testbed.make({ size }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode))
  )
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
