// Issue 10 items 3-4 on real loopback endpoints: what `broadcast` accepted reaches the neighbour, also when the
// connection queue is tiny (back-pressure instead of silent drops) and when the sender closes right after.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Scope } from "effect"
import { collect, eventually, introduce, spawnNode, type TestNode, text, topicOf } from "./netHelpers.js"

const joinedPair = (name: string, senderOptions: Parameters<typeof spawnNode>[0] = {}) =>
  Effect.gen(function*() {
    const [a, b] = yield* Effect.all([spawnNode(senderOptions), spawnNode()], { concurrency: "unbounded" })
    yield* introduce(a!, b!)
    const subs = yield* Scope.make()
    const topic = topicOf(name)
    const tb = yield* b!.service.subscribe(topic, []).pipe(Scope.extend(subs))
    const log = yield* collect(tb, subs)
    const ta = yield* a!.service.subscribe(topic, [b!.id]).pipe(Scope.extend(a!.scope))
    yield* ta.joined
    yield* tb.joined
    const close = (n: TestNode) => n.kill
    return { a: a!, b: b!, ta, log, subs, close }
  })

describe("drain: nothing accepted is lost silently", () => {
  it.live(
    "300 awaited 1 KB broadcasts through a 4-frame connection queue all arrive (back-pressure, no drop)",
    () =>
      Effect.gen(function*() {
        const { a, b, ta, log, subs } = yield* joinedPair("burst-small-queue", { sendQueueCapacity: 4 })
        const body = "x".repeat(1000)
        for (let i = 0; i < 300; i++) yield* ta.broadcast(text(`${i}:${body}`))
        yield* eventually(`300 received (got ${log.received.length})`, () => log.received.length >= 300, "20 seconds")
          .pipe(
            Effect.catchAll(() => Effect.void)
          )
        expect({ received: log.received.length, dropped: a.service.stats.framesDropped }).toEqual({
          received: 300,
          dropped: 0
        })
        expect(log.events.some((e) => e._tag === "Lagged")).toBe(false)
        yield* Scope.close(subs, Exit.void)
        yield* Effect.all([a.kill, b.kill], { concurrency: "unbounded" })
      }),
    40_000
  )

  it.live(
    "broadcast, then close the sender at once: the neighbour still gets the message (3 trials)",
    () =>
      Effect.gen(function*() {
        const outcomes: Array<boolean> = []
        for (let trial = 0; trial < 3; trial++) {
          const { a, b, ta, log, subs } = yield* joinedPair(`close-after-broadcast-${trial}`)
          yield* ta.broadcast(text(`last words ${trial}`))
          const t0 = yield* Clock.currentTimeMillis
          yield* a.kill
          const closeMs = (yield* Clock.currentTimeMillis) - t0
          const got = yield* eventually("the last broadcast", () =>
            log.received.includes(`last words ${trial}`), "3 seconds").pipe(
              Effect.as(true),
              Effect.orElseSucceed(() =>
                false
              )
            )
          outcomes.push(got)
          console.log(`trial ${trial}: delivered=${got} close=${closeMs} ms`)
          yield* Scope.close(subs, Exit.void)
          yield* b.kill
        }
        expect(outcomes).toEqual([true, true, true])
      }),
    60_000
  )
})
