// Closing an endpoint waits a bounded time for QUIC's closing handshake; iroh finishes it in the background.
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { closeEndpoint } from "../src/net/endpointClose.js"

/** An endpoint whose `close()` resolves only when the test says so (a peer that never answers our close). */
const slowEndpoint = () => {
  let finish: () => void = () => undefined
  let calls = 0
  const endpoint = {
    close: () => {
      calls++
      return new Promise<void>((resolve) => (finish = resolve))
    }
  }
  return { endpoint, finish: () => finish(), calls: () => calls }
}

describe("closeEndpoint", () => {
  it.effect("returns after the wait when iroh is still in its closing period, and reports the end later", () =>
    Effect.gen(function*() {
      const slow = slowEndpoint()
      let closed = false
      const fiber = yield* Effect.fork(closeEndpoint(slow.endpoint, Duration.millis(250), () => (closed = true)))
      yield* TestClock.adjust(Duration.millis(249))
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(Duration.millis(1))
      yield* Effect.yieldNow()
      // Done now, while iroh's close has not resolved.
      expect(fiber.unsafePoll()).not.toBeNull()
      yield* Fiber.join(fiber)
      expect({ calls: slow.calls(), closed }).toEqual({ calls: 1, closed: false })
      slow.finish()
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      expect(closed).toBe(true)
    }))

  it.effect("returns as soon as iroh has closed, and a failing close still counts as closed", () =>
    Effect.gen(function*() {
      let closed = 0
      yield* closeEndpoint({ close: () => Promise.resolve() }, Duration.seconds(10), () => closed++)
      yield* closeEndpoint(
        { close: () => Promise.reject(new Error("already closed")) },
        Duration.seconds(10),
        () => closed++
      )
      expect(closed).toBe(2)
    }))
})
