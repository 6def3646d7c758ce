/**
 * The actors after a join are Layers (`JoinOptions.actors`, `TopicContext`): a custom actor gets the topic's
 * context, runs in the topic's scope and is interrupted when the topic closes; the default set is what a join
 * runs without the option.
 */
import { Topic, TopicContext } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { Effect, Layer, Stream } from "effect"
import { describe, expect } from "vitest"
import { startNode } from "./support/sim.js"
import * as VT from "./support/virtualTime.js"

describe("actor Layers", () => {
  VT.test(
    "a custom actor sees the topic's neighbours every 10 s and stops when the topic closes",
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const seen: Array<number> = []
      let stopped = 0
      const neighbourCounter = TopicContext.actor((context) =>
        Effect.forever(
          Effect.zipRight(
            Effect.flatMap(context.neighbors, (peers) => Effect.sync(() => seen.push(peers.length))),
            Effect.sleep("10 seconds")
          )
        ).pipe(Effect.onInterrupt(() => Effect.sync(() => stopped++)))
      )
      const actors = Layer.merge(Topic.defaultActors, neighbourCounter)
      const first = yield* startNode(sim, 0, { actors })
      const second = yield* startNode(sim, 1)
      yield* VT.until(Effect.map(second.neighbors, (peers) => peers.length > 0), "1 minute")
      // The actor starts once the topic has joined; by then the node has its neighbour.
      yield* VT.until(Effect.sync(() => seen.length >= 3), "1 minute")
      expect(seen.every((count) => count === 1)).toBe(true)
      expect(stopped).toBe(0)
      yield* first.close
      expect(stopped).toBe(1)
      const ticks = seen.length
      yield* Effect.sleep("1 minute")
      expect(seen.length).toBe(ticks)
    })
  )

  VT.test(
    "with no actors at all, a joined node never refreshes its record (the default publisher does)",
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const quiet = yield* startNode(sim, 0, { actors: Layer.empty })
      const usual = yield* startNode(sim, 1)
      const publisherWrites = (topic: Topic.Topic) => {
        const writes: Array<bigint> = []
        return Effect.as(
          Effect.forkScoped(Stream.runForEach(topic.discovery, (event) =>
            Effect.sync(() => {
              if (event._tag === "Published" && event.record === "publisher") writes.push(event.minute)
            }))),
          writes
        )
      }
      const quietWrites = yield* publisherWrites(quiet)
      const usualWrites = yield* publisherWrites(usual)
      yield* VT.until(Effect.map(usual.neighbors, (peers) => peers.length > 0), "1 minute")
      yield* Effect.sleep("5 minutes")
      expect(quietWrites).toEqual([])
      expect(usualWrites.length).toBeGreaterThanOrEqual(3)
    })
  )
})
