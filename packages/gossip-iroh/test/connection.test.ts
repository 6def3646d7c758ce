// The send side of one gossip connection, on a stand-in for napi's Connection (deterministic: no network).
import type { EndpointId } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Scope } from "effect"
import * as Connection from "../src/net/connection.js"
import { encodeMessageFrame, encodeStreamHeaderFrame, type TopicMessage } from "../src/wire/index.js"
import { fakeConnection } from "./fakeIroh.js"

const remote = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c" as EndpointId.EndpointId
const topic = Connection.topicKey(new Uint8Array(32).fill(0x17))
const options = { maxMessageSize: 4096, sendQueueCapacity: 64, sendQueueTimeout: "1 second" as const }
const handlers: Connection.ConnectionHandlers = { onMessage: () => Effect.void, onClosed: () => Effect.void }

const frameOf = (message: TopicMessage) => Either.getOrThrow(encodeMessageFrame(message, 4096))
const prune = frameOf({ _tag: "Gossip", message: { _tag: "Prune" } })
const disconnect = frameOf({ _tag: "Swarm", message: { _tag: "Disconnect", alive: true, respond: false } })
const header = Either.getOrThrow(encodeStreamHeaderFrame(new Uint8Array(32).fill(0x17)))
const concat = (parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))

describe("connection send side", () => {
  it.scoped("a burst of frames goes out as few writes: the header, then the frames, byte for byte", () =>
    Effect.gen(function*() {
      const fake = fakeConnection()
      const conn = yield* Connection.start(remote, fake.raw, "dial", options, handlers, yield* Effect.scope)
      for (let i = 0; i < 10; i++) expect(yield* conn.send({ topic, frame: prune, closesStream: false })).toBe(true)
      yield* conn.endSending
      expect(fake.streams).toHaveLength(1)
      const [stream] = fake.streams
      expect(concat(stream!.writes)).toEqual(concat([header, ...Array.from({ length: 10 }, () => prune)]))
      expect(stream!.writes.length).toBeLessThanOrEqual(2)
      expect(stream!.finished).toBe(true)
    }))

  it.scoped("a Disconnect finishes its stream; the next frame opens a new stream with its own header", () =>
    Effect.gen(function*() {
      const fake = fakeConnection()
      const conn = yield* Connection.start(remote, fake.raw, "dial", options, handlers, yield* Effect.scope)
      yield* conn.send({ topic, frame: prune, closesStream: false })
      yield* conn.send({ topic, frame: disconnect, closesStream: true })
      yield* conn.send({ topic, frame: prune, closesStream: false })
      yield* conn.endSending
      expect(fake.streams).toHaveLength(2)
      expect(concat(fake.streams[0]!.writes)).toEqual(concat([header, prune, disconnect]))
      expect(fake.streams[0]!.finished).toBe(true)
      expect(concat(fake.streams[1]!.writes)).toEqual(concat([header, prune]))
    }))

  it.live("after a failed write, sending reports false instead of interrupting the caller (the driver's actor)", () =>
    Effect.gen(function*() {
      const fake = fakeConnection({ failWrites: true })
      const scope = yield* Scope.make()
      const conn = yield* Connection.start(remote, fake.raw, "dial", options, handlers, scope)
      expect(yield* conn.send({ topic, frame: prune, closesStream: false })).toBe(true)
      // The write fails, the send loop closes the connection and ends; napi has not reported `closed()` yet.
      while (fake.closes.length === 0) yield* Effect.sleep("5 millis")
      expect(fake.closes[0]).toContain("send failed")
      yield* Effect.sleep("20 millis")
      expect(yield* conn.send({ topic, frame: prune, closesStream: false })).toBe(false)
      yield* conn.endSending
      fake.resolveClosed("closed by peer")
      expect(yield* conn.closed).toBe("closed by peer")
      yield* Scope.close(scope, Exit.void)
    }))
})
