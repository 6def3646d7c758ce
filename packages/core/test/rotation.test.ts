/**
 * A `SecretRotation` is user code: a `derive` that throws, or returns something other than 32 bytes, must fail
 * the join with a typed `RotationFailed` at once, not leave it pending (on main a throwing derive left a join
 * with a 4 s timeout pending for 20 s and more: the bootstrap fiber died and nobody settled the join).
 */
import { Crypto, SecretRotation, Topic } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Cause, type Duration, Effect, Exit, Fiber, Layer, Option } from "effect"
import { advance, advanceUntil, SECRET, TOPIC } from "./support/sim.js"

const joinWith = (rotation: SecretRotation.SecretRotation, timeout?: Duration.DurationInput) =>
  Effect.gen(function*() {
    const sim = yield* SimNetwork.make()
    const context = yield* Layer.build(Layer.merge(sim.node(0), Crypto.layerNode))
    const joining = yield* Effect.fork(
      Effect.provide(
        Topic.join(TOPIC, { secret: SECRET, rotation, ...(timeout === undefined ? {} : { timeout }) }),
        context
      )
    )
    // Well before any timeout: the first DHT read derives the minute's key.
    yield* advanceUntil(Effect.sync(() => joining.unsafePoll() !== null), "1 second")
    const exit = joining.unsafePoll()
    expect(exit, "the join is still pending").not.toBeNull()
    return exit!
  })

const failureOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

describe("a throwing or misbehaving SecretRotation", () => {
  it.scoped("derive throws: the join fails with RotationFailed (with the cause and minute), before its timeout", () =>
    Effect.gen(function*() {
      const boom = new Error("no key for you")
      const exit = yield* joinWith(
        SecretRotation.make(() => {
          throw boom
        }),
        "4 seconds"
      )
      const failure = failureOf(exit) as SecretRotation.RotationFailed | undefined
      expect(failure?._tag).toBe("RotationFailed")
      expect(failure?.cause).toBe(boom)
      expect(typeof failure?.unixMinute).toBe("bigint")
    }))

  it.scoped("derive returns 16 bytes: RotationFailed too, even with no join timeout at all", () =>
    Effect.gen(function*() {
      const exit = yield* joinWith(SecretRotation.make(() => new Uint8Array(16)))
      expect((failureOf(exit) as { _tag?: string } | undefined)?._tag).toBe("RotationFailed")
    }))

  it.scoped("a rotation that works is unaffected: two nodes still join", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const rotation = SecretRotation.make((topic, minute, secretHash) =>
        SecretRotation.defaultRotation.derive(topic, minute, secretHash)
      )
      const contexts = yield* Effect.all([0, 1].map((i) => Layer.build(Layer.merge(sim.node(i), Crypto.layerNode))))
      const fibers = yield* Effect.all(
        contexts.map((context) => Effect.fork(Effect.provide(Topic.join(TOPIC, { secret: SECRET, rotation }), context)))
      )
      yield* advanceUntil(Effect.sync(() => fibers.every((f) => f.unsafePoll() !== null)), "60 seconds")
      for (const fiber of fibers) expect(Exit.isSuccess(fiber.unsafePoll()!)).toBe(true)
      yield* advance("1 second")
      yield* Effect.forEach(fibers, Fiber.interrupt)
    }))
})
