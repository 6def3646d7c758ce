// The shared Dht contract of @dtt/testkit, run against the mainline layer on a loopback Testbed: once with
// a way to put different writers' values on different storing nodes, once through the plain put path only.
import { Crypto } from "@dtt/core"
import { dhtCompliance } from "@dtt/testkit"
import { Effect, Layer } from "effect"
import { Testbed } from "../src/index.js"

const harness = (rule: "last-writer-wins" | "first-writer-wins", distinct: boolean) =>
  (({ clients, dhtConfig }) =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 16, rule })
      return {
        clients: Array.from({ length: clients }, () => bed.clientLayer(dhtConfig).pipe(Layer.orDie)),
        ...(distinct ? { storeOnDistinctNodes: bed.storeOnDistinctNodes } : {})
      }
    }).pipe(Effect.provide(Crypto.layer))) satisfies Parameters<typeof dhtCompliance>[1]

dhtCompliance("mainline over loopback (last-writer-wins, distinct storing nodes)", harness("last-writer-wins", true))
dhtCompliance("mainline over loopback (first-writer-wins, plain puts)", harness("first-writer-wins", false))
