import { Crypto, Dht } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { DhtMainline, Testbed } from "../src/index.js"
import { bytesOf, seedOf, signItem } from "./helpers.js"

describe("smoke", () => {
  it.scoped("put then get on a 10-node testbed", () =>
    Effect.gen(function* () {
      const bed = yield* Testbed.make({ size: 10 })
      console.log(bed.nodes.map((n) => n.routingTableSize()))
      const { dht } = yield* DhtMainline.makeService(bed.clientOptions())
      const item = signItem(seedOf(1), bytesOf("salt"), bytesOf("hello"))
      const t0 = Date.now()
      const receipt = yield* dht.putMutable(item, { cas: item.seq })
      console.log("put", receipt, Date.now() - t0)
      const t1 = Date.now()
      const got = yield* dht.getMutable(item.publicKey, item.salt)
      console.log("get", got.length, Date.now() - t1, bed.storedItems(item.publicKey, item.salt).length)
      expect(got.length).toBe(1)
    }).pipe(Effect.provide(Crypto.layer))
  )
})
