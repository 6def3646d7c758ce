// A few thousand hostile datagrams at a storing node and at a client: neither crashes, both keep working.
// (The fuzz script `npm run fuzz:dht` sends 100k+.)
import { Bep44, Crypto } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { DhtMainline, Testbed } from "../src/index.js"
import * as FakeNode from "./fakeNode.js"
import { bytesOf, seedOf, signItem } from "./helpers.js"
import { barrage, rng } from "./hostileDatagrams.js"

const DATAGRAMS = 3000

describe("hostile input", () => {
  it.scopedLive(`${DATAGRAMS} random and mutated datagrams: nodes survive and still serve`, () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 5 })
      const { dht, node: clientNode } = yield* DhtMainline.makeService(
        bed.clientOptions({ dht: { retries: 0, getTimeout: Duration.seconds(10) } })
      )
      const attacker = yield* FakeNode.make(() => undefined)
      const r = rng(20261124)
      const victims = [bed.nodes[0]!, bed.nodes[1]!, clientNode]
      const received = yield* barrage(attacker.send, victims, DATAGRAMS, r)
      yield* Effect.sleep(Duration.millis(100))
      expect(received).toBeGreaterThanOrEqual(DATAGRAMS * 0.95) // loopback may still drop a few
      const storing = bed.nodes[0]!.stats
      expect(storing.malformed).toBeGreaterThan(0)
      expect(storing.queriesAnswered).toBeGreaterThan(0) // well-formed queries among them got (error) replies
      // The hostile puts stored nothing: none of them carried a valid token and signature.
      expect(bed.nodes.reduce((n, node) => n + node.storedCount(), 0)).toBe(0)
      // Everything still works.
      const item = signItem(seedOf(80), bytesOf("after"), bytesOf("the storm"))
      expect((yield* dht.putMutable(item, { cas: Bep44.SEQ_I64_MAX })).storedAt).toBe(5)
      expect(yield* dht.getMutable(item.publicKey, item.salt)).toEqual([item])
    }).pipe(Effect.provide(Crypto.layer)))
})
