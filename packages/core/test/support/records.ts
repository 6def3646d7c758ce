/** Shared helpers for the record-layer tests: record publishers on the simulated network, and signed slot items. */
import { Bep44, Crypto, type Dht, type Keys, RecordPublisher } from "@dtt/core"
import type { SimNetwork } from "@dtt/testkit"
import { Effect, Layer } from "effect"
import { SECRET, TOPIC } from "./sim.js"

const crypto = Crypto.make("node")

/**
 * A record publisher of node `index` of `sim` for the test topic and secret, with the default cap of 5; `options`
 * override any of that. `dht`, when given, wraps the node's DHT (to record or fail its calls).
 */
export const publisherOf = (
  sim: SimNetwork.SimNetwork,
  index: number,
  options: Partial<RecordPublisher.Options> = {},
  dht?: Layer.Layer<Dht.Dht, never, Dht.Dht>
) =>
  Effect.gen(function*() {
    const node = dht === undefined ? sim.node(index) : Layer.provideMerge(dht, sim.node(index))
    const context = yield* Layer.build(Layer.merge(node, Crypto.layerNode))
    return yield* Effect.provide(
      RecordPublisher.make({
        topicId: TOPIC,
        secretKey: sim.identity(index).secretKey,
        initialSecret: SECRET,
        maxBootstrapRecords: 5,
        ...options
      }),
      context
    )
  })

/** The BEP44 item holding `value` in `slot`, signed with the slot's key: anyone who knows the topic name can make one. */
export const signedSlotItem = (slot: Keys.Slot, value: Uint8Array, seq = Bep44.SEQ_I64_MAX): Dht.MutableItem => ({
  publicKey: slot.publicKey,
  salt: slot.salt,
  seq,
  value,
  signature: crypto.sign(slot.signingSeed, Bep44.signable(slot.salt, seq, value))
})
