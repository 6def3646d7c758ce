// A put right after a get of the same target reuses the storing nodes (and write tokens) the get found.
import { Crypto, type Dht } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { DhtMainline, Testbed } from "../src/index.js"
import * as WriteTargets from "../src/internal/writeTargets.js"
import { bytesOf, seedOf, signItem } from "./helpers.js"

const fast = { retries: 0, putTimeout: Duration.seconds(10), getTimeout: Duration.seconds(10) }

const itemOf = (n: number, text: string): Dht.MutableItem =>
  signItem(seedOf(n), bytesOf(`slot-${n}`), bytesOf(text), 1n)

describe("write targets remembered from a get", () => {
  it.scopedLive("a put after a get of its target sends only the puts", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 12 })
      const { dht, node } = yield* DhtMainline.makeService(bed.clientOptions({ dht: fast }))
      yield* node.bootstrap
      const item = itemOf(1, "first")
      expect(yield* dht.getMutable(item.publicKey, item.salt)).toEqual([])
      const before = node.stats.requestsSent
      const receipt = yield* dht.putMutable(item)
      // Only a put to each storing node (12); without the remembered nodes the put walked the DHT again first,
      // a get to each of them too (24).
      expect(node.stats.requestsSent - before).toBeLessThanOrEqual(12)
      expect(receipt.storedAt).toBeGreaterThanOrEqual(10)
      expect(bed.storedItems(item.publicKey, item.salt)).toHaveLength(receipt.storedAt)
    }).pipe(Effect.provide(Crypto.layerNode)))

  it.scopedLive("tokens that went stale since the get: the put looks up afresh and still stores", () =>
    Effect.gen(function*() {
      // Two rotations make every token the get collected invalid (a token outlives one rotation, not two).
      const bed = yield* Testbed.make({ size: 12, node: { tokenRotation: Duration.millis(100) } })
      const { dht, node } = yield* DhtMainline.makeService(bed.clientOptions({ dht: fast }))
      yield* node.bootstrap
      const item = itemOf(2, "second")
      yield* dht.getMutable(item.publicKey, item.salt)
      yield* Effect.sleep(Duration.millis(350))
      const before = node.stats.requestsSent
      const receipt = yield* dht.putMutable(item)
      expect(receipt.storedAt).toBeGreaterThanOrEqual(10)
      // The refused puts, a fresh lookup, and the puts again.
      expect(node.stats.requestsSent - before).toBeGreaterThan(2 * receipt.storedAt)
    }).pipe(Effect.provide(Crypto.layerNode)))

  it("stale entries are dropped as new ones come, not only when the count limit is hit", () => {
    const targets = WriteTargets.make(60_000, 256)
    const responder = (n: number) => ({
      id: new Uint8Array(20).fill(n),
      host: "127.0.0.1",
      port: 6881,
      token: bytesOf("t")
    })
    const target = (n: number) => bytesOf(`target-${n}`)
    // A long-lived node: ten new targets (slot reads, address lookups) every ten seconds, for ten minutes.
    for (let t = 0; t < 600_000; t += 10_000) {
      for (let n = 0; n < 10; n++) targets.remember(target(t + n), [responder(n)], t)
    }
    // Only the last minute's are kept (they are the only ones `recall` would still hand out); before, the map
    // held the 256 newest whatever their age.
    expect(targets.size()).toBeLessThanOrEqual(60)
    expect(targets.recall(target(590_000), 590_000)).toHaveLength(1)
    expect(targets.recall(target(0), 590_000)).toBeUndefined()
  })
})
