/**
 * `NodeLayer`, the facade's node stack for Effect users: two programs that provide `NodeLayer.layer(options)` to
 * `@dtt/core`'s `Topic.join` find each other on a loopback testbed and exchange a message; bad options fail the
 * layer with the same typed error `createNode` rejects with.
 */
import { Topic, TopicId } from "@dtt/core"
import { Duration, Effect, Exit, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { NodeLayer, TopicTrackerError } from "../src/index.js"
import { useTestbed } from "./hooks.js"
import { loopbackOptions } from "./testbed.js"

const topicId = TopicId.fromName("node-layer")
const secret = new TextEncoder().encode("node-layer-secret")

describe("NodeLayer", () => {
  const dht = useTestbed()

  it("two nodes built from NodeLayer.layer join one topic and deliver a message", async () => {
    const listener = Effect.scoped(
      Effect.gen(function*() {
        const topic = yield* Topic.joinNoWait(topicId, { secret })
        const [, receiver] = yield* topic.split
        yield* Effect.forkScoped(
          Effect.scoped(
            Effect.gen(function*() {
              const other = yield* Topic.join(topicId, { secret, timeout: Duration.seconds(20) })
              const [sender] = yield* other.split
              yield* receiver.joined
              yield* sender.broadcast(new TextEncoder().encode("hello from an Effect program"))
              yield* Effect.never
            })
          ).pipe(Effect.provide(NodeLayer.layer(loopbackOptions(dht))))
        )
        while (true) {
          const event = yield* receiver.next
          if (event._tag === "Received") return new TextDecoder().decode(event.content)
        }
      })
    ).pipe(Effect.provide(NodeLayer.layer(loopbackOptions(dht))), Effect.timeout(Duration.seconds(30)))
    expect(await Effect.runPromise(listener)).toBe("hello from an Effect program")
  }, 40_000)

  it("bad options fail the layer with the TopicTrackerError createNode rejects with", async () => {
    const exit = await Effect.runPromiseExit(Layer.build(NodeLayer.layer({ port: 70_000 })).pipe(Effect.scoped))
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) {
      const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(error).toBeInstanceOf(TopicTrackerError)
      expect(error).toMatchObject({ _tag: "InvalidArgument", message: expect.stringContaining("options.port") })
    }
  })
})
