import { describe, expect, it } from "@effect/vitest"
import { Effect, Scope, Exit } from "effect"
import { collect, eventually, introduce, spawnNode, text, topicOf } from "./netHelpers.js"

describe("GossipIroh on real loopback endpoints", () => {
  it.live("3 nodes: chain join, a broadcast reaches both others", () =>
    Effect.gen(function* () {
      const [n1, n2, n3] = yield* Effect.all([spawnNode(), spawnNode(), spawnNode()])
      yield* introduce(n2, n1)
      yield* introduce(n3, n2)
      const topic = topicOf("smoke")
      const subs = yield* Scope.make()
      const t1 = yield* n1.service.subscribe(topic, []).pipe(Scope.extend(subs))
      const t2 = yield* n2.service.subscribe(topic, [n1.id]).pipe(Scope.extend(subs))
      const t3 = yield* n3.service.subscribe(topic, [n2.id]).pipe(Scope.extend(subs))
      const c2 = yield* collect(t2, subs)
      const c3 = yield* collect(t3, subs)
      yield* t2.joined
      yield* t3.joined
      yield* t1.joined
      yield* t1.broadcast(text("hi0"))
      yield* t1.broadcast(text("hi1"))
      yield* eventually("n2 and n3 got both", () => c2.received.length === 2 && c3.received.length === 2)
      expect([...c2.received].sort()).toEqual(["hi0", "hi1"])
      expect([...c3.received].sort()).toEqual(["hi0", "hi1"])
      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([n1.kill, n2.kill, n3.kill], { concurrency: "unbounded" })
    })
  )
})
