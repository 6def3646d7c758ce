// Closing the scope a node lives in ends everything it started: sockets, fibers, and the Node timers behind
// in-flight requests, the token rotation and the routing-table refresh.
import { Crypto } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Scope, Supervisor } from "effect"
import { DhtMainline } from "../src/index.js"
import * as FakeNode from "./fakeNode.js"
import { bytesOf, seedOf, signItem } from "./helpers.js"

/** How many handles of a kind ("UDPWrap", "Timeout") keep this process's event loop alive right now. */
const activeHandles = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length

/** Polls (1 ms steps, at most `limit` ms) until `condition` holds; returns whether it did. */
const eventually = (condition: () => boolean, limit = 1000) =>
  Effect.gen(function*() {
    for (let waited = 0; waited < limit && !condition(); waited++) yield* Effect.sleep(Duration.millis(1))
    return condition()
  })

describe("closing a node's scope", () => {
  it.scopedLive("stops every fiber and timer of a storing node and of a client with requests in flight", () =>
    Effect.gen(function*() {
      // A peer that never answers keeps requests (and their 60 s timers) pending until the scope closes.
      const silent = yield* FakeNode.make(() => undefined)
      const sockets = activeHandles("UDPWrap")
      const timers = activeHandles("Timeout")

      const supervisor = yield* Supervisor.track
      const scope = yield* Scope.make()
      const { client, storing } = yield* Effect.gen(function*() {
        const storing = yield* DhtMainline.makeNode({
          host: "127.0.0.1",
          bootstrap: [],
          storing: { rule: "last-writer-wins" }
        })
        const { dht, node: client } = yield* DhtMainline.makeService({
          host: "127.0.0.1",
          bootstrap: [silent.address, `127.0.0.1:${storing.address.port}`],
          requestTimeout: Duration.seconds(60)
        })
        const item = signItem(seedOf(3), bytesOf("lifecycle"), bytesOf("v"))
        yield* Effect.forkScoped(dht.getMutable(item.publicKey, item.salt))
        yield* Effect.forkScoped(dht.putMutable(item))
        return { client, storing }
      }).pipe(Effect.supervised(supervisor), Scope.extend(scope))

      // Work is under way: the bootstrap lookup, the get and the put each wait on the silent peer.
      expect(yield* eventually(() => silent.received.length >= 3)).toBe(true)
      expect(client.stats.requestsSent).toBeGreaterThanOrEqual(3)
      expect(storing.stats.queriesAnswered).toBeGreaterThanOrEqual(1)
      // Two socket readers, the token rotation, the refresh, the get, the put and the lookups' request fibers.
      expect((yield* supervisor.value).length).toBeGreaterThanOrEqual(6)
      expect(activeHandles("UDPWrap")).toBe(sockets + 2)
      expect(activeHandles("Timeout")).toBeGreaterThan(timers)

      yield* Scope.close(scope, Exit.void)

      expect(yield* supervisor.value).toEqual([])
      // Node drops a closed socket's handle (and a cleared timer's) on its next loop turn, after the close
      // callback has already run: give it that moment. A leaked timer (60 s) or socket would stay.
      expect(yield* eventually(() => activeHandles("UDPWrap") === sockets)).toBe(true)
      expect(yield* eventually(() => activeHandles("Timeout") <= timers)).toBe(true)
    }).pipe(Effect.provide(Crypto.layer)))
})
