/**
 * The compliance suite every `Gossip` implementation runs (memory network, iroh-gossip port over loopback).
 *
 * Usage, in a vitest file of the implementation's package:
 *
 *     gossipCompliance("iroh over loopback", ({ nodes, topology }) =>
 *       Effect.gen(function* () {
 *         const endpoints = yield* startLoopbackEndpoints(nodes)          // live for the test's scope
 *         return endpoints.map((e) => GossipIroh.layer(e, addressBookFor(e, topology)))
 *       }), { chainTopology: true })
 *
 * `makeNodes` is called once per test, inside that test's scope, and returns one `Gossip` layer per node; the
 * suite builds them in that scope (building starts a node, closing the scope stops it). Every node must be
 * able to dial every other by endpoint id alone (fill address books in the harness). With
 * `chainTopology: true` the relay test asks for `topology: "chain"`: node i can then reach only i-1 and i+1,
 * which makes the relay path certain; without it the relay test checks only what holds in any topology.
 *
 * The suite runs on the real clock (`it.scopedLive`) with short real timeouts, never on `TestClock`.
 */
import { type EndpointId, Gossip } from "@dtt/core"
import { Clock, Context, Duration, Effect, Exit, Fiber, Layer, Option, Scope, Stream } from "effect"
import { vitest } from "./internal/vitest.js"

export type GossipTopology = "full" | "chain"

export type MakeGossipNodes = (options: {
  readonly nodes: number
  readonly topology: GossipTopology
  /**
   * Events one subscriber may fall behind before it sees `Lagged`; the harness must configure its nodes with it
   * when given (the full-buffer test asks for a small one).
   */
  readonly subscriptionCapacity?: number
}) => Effect.Effect<ReadonlyArray<Layer.Layer<Gossip.Gossip>>, unknown, Scope.Scope>

export interface GossipComplianceOptions {
  /** The harness can restrict links to a chain (see the module comment). Default false. */
  readonly chainTopology?: boolean
  /** How long to wait for an expected event, in milliseconds (default 10 000). */
  readonly eventTimeout?: number
  /** How long to watch for an event that must NOT happen, in milliseconds (default 300). */
  readonly quietPeriod?: number
  /** Per-test limit in milliseconds (default 30 000). */
  readonly timeout?: number
}

const text = (s: string) => new TextEncoder().encode(s)
const decode = (b: Uint8Array) => new TextDecoder().decode(b)

/** One consumer per subscription that records every event, so tests can wait for and inspect them. */
interface Recorder {
  readonly events: () => ReadonlyArray<Gossip.GossipEvent>
  readonly ended: () => boolean
}

const record = (topic: Gossip.GossipTopic): Effect.Effect<Recorder, never, Scope.Scope> =>
  Effect.gen(function*() {
    const seen: Array<Gossip.GossipEvent> = []
    let ended = false
    yield* Stream.runForEach(topic.events, (e) => Effect.sync(() => seen.push(e))).pipe(
      Effect.ensuring(Effect.sync(() => void (ended = true))),
      Effect.forkScoped
    )
    return { events: () => seen, ended: () => ended }
  })

const received = (r: Recorder) => r.events().flatMap((e) => (e._tag === "Received" ? [e] : []))

export const gossipCompliance = (
  name: string,
  makeNodes: MakeGossipNodes,
  options: GossipComplianceOptions = {}
): void => {
  const { describe, expect, it } = vitest()
  const eventTimeout = options.eventTimeout ?? 10_000
  const quiet = Duration.millis(options.quietPeriod ?? 300)
  const timeout = options.timeout ?? 30_000
  let topicCounter = 0
  /** A fresh topic per test, so a harness that reuses nodes never mixes tests. */
  const freshTopic = () => {
    const id = new Uint8Array(32)
    const label = text(`gossip-compliance:${name}:${topicCounter++}`)
    for (let i = 0; i < label.length; i++) id[i % 32] = (id[i % 32]! * 31 + label[i]!) & 0xff
    return id
  }

  /** Poll (real time) until `check` holds; fail the test with `what` after `eventTimeout`. */
  const eventually = (what: string, check: () => boolean) =>
    Effect.gen(function*() {
      const deadline = (yield* Clock.currentTimeMillis) + eventTimeout
      while (!check()) {
        if ((yield* Clock.currentTimeMillis) > deadline) {
          return yield* Effect.dieMessage(`timed out waiting for ${what}`)
        }
        yield* Effect.sleep(Duration.millis(10))
      }
    })

  const start = (count: number, topology: GossipTopology = "full", subscriptionCapacity?: number) =>
    Effect.gen(function*() {
      const layers = yield* makeNodes({
        nodes: count,
        topology,
        ...(subscriptionCapacity === undefined ? {} : { subscriptionCapacity })
      })
      if (layers.length < count) {
        return yield* Effect.dieMessage(`harness returned ${layers.length} nodes, ${count} requested`)
      }
      return yield* Effect.forEach(
        layers.slice(0, count),
        (l) => Effect.map(Layer.build(l), (ctx) => Context.get(ctx, Gossip.Gossip))
      )
    })

  const hasUp = (r: Recorder, peer: EndpointId.EndpointId) =>
    r.events().some((e) => e._tag === "NeighborUp" && e.peer === peer)

  /** Two joined nodes with their recorders. */
  const pair = Effect.gen(function*() {
    const [a, b] = yield* start(2)
    const topic = freshTopic()
    const ta = yield* a!.subscribe(topic, [])
    const ra = yield* record(ta)
    const tb = yield* b!.subscribe(topic, [a!.endpointId])
    const rb = yield* record(tb)
    yield* eventually("NeighborUp on both sides", () => hasUp(ra, b!.endpointId) && hasUp(rb, a!.endpointId))
    return { a: a!, b: b!, ta, tb, ra, rb, topic }
  })

  describe(`Gossip compliance: ${name}`, () => {
    it.scopedLive(
      "two nodes join: NeighborUp on both sides, neighbors and isJoined agree",
      () =>
        Effect.gen(function*() {
          const { a, b, ta, tb } = yield* pair
          expect(yield* ta.neighbors).toContain(b.endpointId)
          expect(yield* tb.neighbors).toContain(a.endpointId)
          expect(yield* ta.isJoined).toBe(true)
          expect(yield* tb.isJoined).toBe(true)
          expect(a.endpointId).not.toBe(b.endpointId)
          expect(a.maxMessageSize).toBeGreaterThanOrEqual(512)
        }),
      timeout
    )

    it.scopedLive(
      "broadcast reaches the other node from the right previous hop, never the sender itself",
      () =>
        Effect.gen(function*() {
          const { a, b, ta, tb, ra, rb } = yield* pair
          yield* tb.broadcast(text("from b"))
          yield* ta.broadcast(text("from a"))
          yield* eventually("a receives b's message", () => received(ra).some((e) => decode(e.content) === "from b"))
          yield* eventually("b receives a's message", () => received(rb).some((e) => decode(e.content) === "from a"))
          const atA = received(ra).find((e) => decode(e.content) === "from b")!
          expect(atA.deliveredFrom).toBe(b.endpointId)
          expect(atA.scope).toEqual({ _tag: "Swarm", hops: 0 })
          expect(received(rb).find((e) => decode(e.content) === "from a")!.deliveredFrom).toBe(a.endpointId)
          yield* Effect.sleep(quiet)
          expect(received(ra).map((e) => decode(e.content))).toEqual(["from b"])
          expect(received(rb).map((e) => decode(e.content))).toEqual(["from a"])
        }),
      timeout
    )

    it.scopedLive(
      "broadcastNeighbors arrives with the Neighbors scope",
      () =>
        Effect.gen(function*() {
          const { b, tb, ra, rb } = yield* pair
          yield* tb.broadcastNeighbors(text("neighbourly"))
          yield* eventually("a receives the neighbour message", () => received(ra).length > 0)
          expect(received(ra)[0]).toEqual({
            _tag: "Received",
            content: text("neighbourly"),
            deliveredFrom: b.endpointId,
            scope: { _tag: "Neighbors" }
          })
          yield* Effect.sleep(quiet)
          expect(received(rb)).toEqual([])
        }),
      timeout
    )

    it.scopedLive(
      "three nodes: a message is relayed to a node that joined through someone else, once",
      () =>
        Effect.gen(function*() {
          const chain = options.chainTopology === true
          const [a, b, c] = yield* start(3, chain ? "chain" : "full")
          const topic = freshTopic()
          const ta = yield* a!.subscribe(topic, [])
          const ra = yield* record(ta)
          const tb = yield* b!.subscribe(topic, [a!.endpointId])
          const rb = yield* record(tb)
          yield* eventually("b joined a", () => hasUp(rb, a!.endpointId))
          const tc = yield* c!.subscribe(topic, [b!.endpointId])
          const rc = yield* record(tc)
          yield* eventually("c joined b", () => hasUp(rc, b!.endpointId))
          yield* ta.broadcast(text("relay me"))
          yield* eventually("c receives a's message", () => received(rc).length > 0)
          yield* eventually("b receives a's message", () => received(rb).length > 0)
          const atC = received(rc)[0]!
          expect(decode(atC.content)).toBe("relay me")
          if (chain) {
            expect(atC.deliveredFrom).toBe(b!.endpointId)
            expect(atC.scope).toEqual({ _tag: "Swarm", hops: 1 })
          } else {
            expect([a!.endpointId, b!.endpointId]).toContain(atC.deliveredFrom)
            expect(atC.scope._tag).toBe("Swarm")
          }
          yield* Effect.sleep(quiet)
          expect(received(rc)).toHaveLength(1)
          expect(received(rb)).toHaveLength(1)
          expect(received(ra)).toEqual([])
          void tc
        }),
      timeout
    )

    it.scopedLive(
      "closing a subscription's scope gives the neighbour NeighborDown",
      () =>
        Effect.gen(function*() {
          const [a, b] = yield* start(2)
          const topic = freshTopic()
          const ta = yield* a!.subscribe(topic, [])
          const ra = yield* record(ta)
          const scopeB = yield* Scope.make()
          yield* b!.subscribe(topic, [a!.endpointId]).pipe(Scope.extend(scopeB))
          yield* eventually("a sees b up", () => hasUp(ra, b!.endpointId))
          yield* Scope.close(scopeB, Exit.void)
          yield* eventually("a sees b down", () =>
            ra.events().some((e) => e._tag === "NeighborDown" && e.peer === b!.endpointId))
          expect(yield* ta.neighbors).not.toContain(b!.endpointId)
        }),
      timeout
    )

    it.scopedLive(
      "joined() waits for the first neighbour",
      () =>
        Effect.gen(function*() {
          const [a, b] = yield* start(2)
          const topic = freshTopic()
          const ta = yield* a!.subscribe(topic, [])
          expect(yield* ta.isJoined).toBe(false)
          const waiting = yield* Effect.fork(ta.joined)
          yield* Effect.sleep(quiet)
          expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
          yield* b!.subscribe(topic, [a!.endpointId])
          yield* Fiber.join(waiting).pipe(
            Effect.timeoutFail({ duration: Duration.millis(eventTimeout), onTimeout: () => "joined() never resolved" })
          )
          expect(yield* ta.isJoined).toBe(true)
        }),
      timeout
    )

    it.scopedLive(
      "a join to an unknown peer fails quietly",
      () =>
        Effect.gen(function*() {
          const [a] = yield* start(1)
          const nobody = "00".repeat(31) + "01"
          const ta = yield* a!.subscribe(freshTopic(), [nobody as EndpointId.EndpointId])
          yield* Effect.sleep(quiet)
          expect(yield* ta.isJoined).toBe(false)
          expect(yield* ta.neighbors).toEqual([])
        }),
      timeout
    )

    it.scopedLive(
      "after the subscription closes: events end, joined() and broadcast fail with GossipClosed",
      () =>
        Effect.gen(function*() {
          const [a] = yield* start(1)
          const scope = yield* Scope.make()
          const ta = yield* a!.subscribe(freshTopic(), []).pipe(Scope.extend(scope))
          const pendingJoin = yield* Effect.fork(Effect.flip(ta.joined))
          yield* Scope.close(scope, Exit.void)
          const rest = yield* Stream.runCollect(ta.events).pipe(
            Effect.timeoutFail({ duration: Duration.millis(eventTimeout), onTimeout: () => "events did not end" })
          )
          expect([...rest].filter((e) => e._tag === "Received")).toEqual([])
          expect((yield* Fiber.join(pendingJoin))._tag).toBe("GossipClosed")
          expect((yield* Effect.flip(ta.joined))._tag).toBe("GossipClosed")
          expect((yield* Effect.flip(ta.broadcast(text("too late"))))._tag).toBe("GossipClosed")
        }),
      timeout
    )

    it.scopedLive(
      "a message over maxMessageSize is refused with GossipMessageTooLarge",
      () =>
        Effect.gen(function*() {
          const [a] = yield* start(1)
          const ta = yield* a!.subscribe(freshTopic(), [])
          const error = yield* Effect.flip(ta.broadcast(new Uint8Array(a!.maxMessageSize + 1)))
          expect(error).toMatchObject({ _tag: "GossipMessageTooLarge", size: a!.maxMessageSize + 1 })
        }),
      timeout
    )

    it.scopedLive(
      "a late subscriber on a joined node first sees NeighborUp for the current neighbours, then new messages",
      () =>
        Effect.gen(function*() {
          const { a, b, ta, topic } = yield* pair
          const late = yield* record(yield* b.subscribe(topic, []))
          yield* eventually("the late subscriber's NeighborUp", () => hasUp(late, a.endpointId))
          expect(late.events()[0]).toEqual({ _tag: "NeighborUp", peer: a.endpointId })
          yield* ta.broadcast(text("for both"))
          yield* eventually("the message at the late subscriber", () =>
            received(late).some((e) => decode(e.content) === "for both"))
          expect(
            late.events().some((e) =>
              e._tag === "Lagged"
            )
          ).toBe(false)
        }),
      timeout
    )
  })
}
