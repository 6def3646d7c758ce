// Real-endpoint test helpers: nodes on 127.0.0.1, relays off, each in its own scope so a test can kill one.
import { Chunk, Duration, Effect, Exit, Fiber, Schedule, Scope, Stream } from "effect"
import { type EndpointId, type Gossip, NodeIdentity } from "@dtt/core"
import * as GossipIroh from "../src/GossipIroh.js"

export interface TestNode {
  readonly id: EndpointId.EndpointId
  readonly service: GossipIroh.GossipIrohService
  readonly scope: Scope.CloseableScope
  readonly kill: Effect.Effect<void>
}

export const spawnNode = (options: GossipIroh.GossipIrohOptions = {}, secretKey?: Uint8Array) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const identity = secretKey === undefined ? NodeIdentity.generate() : NodeIdentity.fromSecretKey(secretKey)
    const service = yield* GossipIroh.make(options).pipe(
      Effect.provideService(NodeIdentity.NodeIdentity, identity),
      Scope.extend(scope)
    )
    const node: TestNode = { id: identity.endpointId, service, scope, kill: Scope.close(scope, Exit.void) }
    return node
  })

/** Node `a` learns how to reach `b`. */
export const introduce = (a: TestNode, b: TestNode) =>
  Effect.flatMap(b.service.addr, (addr) => a.service.addAddress(addr))

export const topicOf = (name: string) => {
  const t = new Uint8Array(32)
  t.set(new TextEncoder().encode(name).subarray(0, 32))
  return t
}

export const text = (s: string) => new TextEncoder().encode(s)
export const untext = (b: Uint8Array) => new TextDecoder().decode(b)

/** Collects `Received` contents of a topic in the background. */
export const collect = (topic: Gossip.GossipTopic, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const received: Array<string> = []
    const events: Array<Gossip.GossipEvent> = []
    const fiber = yield* topic.events.pipe(
      Stream.runForEach((e) =>
        Effect.sync(() => {
          events.push(e)
          if (e._tag === "Received") received.push(untext(e.content))
        })
      ),
      Effect.forkIn(scope)
    )
    return { received, events, fiber }
  })

/** Polls `check` every 20 ms until true, failing after `timeout`. */
export const eventually = (what: string, check: () => boolean, timeout: Duration.DurationInput = "10 seconds") =>
  eventuallyEffect(what, Effect.sync(check), timeout)

export const eventuallyEffect = (
  what: string,
  check: Effect.Effect<boolean>,
  timeout: Duration.DurationInput = "10 seconds"
) =>
  Effect.flatMap(check, (ok) => (ok ? Effect.void : Effect.fail(what))).pipe(
    Effect.retry({ schedule: Schedule.spaced(Duration.millis(20)) }),
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`timed out waiting for: ${what}`) })
  )

export { Chunk, Fiber }

/**
 * True when every member has a neighbour, nobody lists a non-member, and every member can reach every other one
 * along "b is in a's active view" edges (the edges Plumtree pushes along). HyParView views are not always
 * symmetric: a node evicted right after it was accepted answers the accepting node's Neighbor before it sees the
 * Disconnect, and the accepting node (which still has it as a pending request) re-adds it (iroh-gossip 0.101 does
 * the same). A broadcast made while views are still moving may legitimately miss nodes, so tests wait for this
 * before they assert delivery.
 */
export const overlayConnected = (
  members: ReadonlyArray<{ readonly id: EndpointId.EndpointId; readonly topic: Gossip.GossipTopic }>
) =>
  Effect.gen(function* () {
    const ids = new Set(members.map((m) => m.id))
    const views = new Map<EndpointId.EndpointId, ReadonlyArray<EndpointId.EndpointId>>()
    for (const m of members) views.set(m.id, yield* m.topic.neighbors)
    for (const ns of views.values()) {
      if (ns.length === 0 || ns.some((n) => !ids.has(n))) return false
    }
    for (const from of ids) {
      const seen = new Set([from])
      const todo = [from]
      while (todo.length > 0) {
        for (const n of views.get(todo.pop()!)!) if (!seen.has(n)) (seen.add(n), todo.push(n))
      }
      if (seen.size !== ids.size) return false
    }
    return true
  })

/**
 * `overlayConnected` holding with unchanged active views for `quietFor`. Right after the joins, ForwardJoin walks
 * and Neighbor handshakes still move edges, and a message flooded while an edge moves can miss the node at its end
 * (Plumtree repairs only through IHaves on edges that exist when the message passes).
 */
export const overlayQuiet = (
  members: ReadonlyArray<{ readonly id: EndpointId.EndpointId; readonly topic: Gossip.GossipTopic }>,
  quietFor: Duration.DurationInput,
  timeout: Duration.DurationInput
) =>
  Effect.suspend(() => {
    let views: ReadonlyArray<ReadonlyArray<EndpointId.EndpointId>> = []
    let connected = false
    const wait = Effect.gen(function* () {
      let lastKey = ""
      let since = 0
      while (true) {
        const now = performance.now()
        views = yield* Effect.forEach(members, (m) => Effect.map(m.topic.neighbors, (ns) => [...ns].sort()))
        const key = views.map((v) => v.join()).join("|")
        connected = yield* overlayConnected(members)
        if (key !== lastKey || !connected) {
          lastKey = key
          since = now
        } else if (now - since >= Duration.toMillis(quietFor)) return
        yield* Effect.sleep(Duration.millis(25))
      }
    })
    // On timeout, the last views (by member index) tell a partition from views that keep moving.
    const describe = () => {
      const index = new Map<string, number>(members.map((m, i) => [m.id, i]))
      return views.map((v, i) => `${i}->[${v.map((n) => index.get(n) ?? n.slice(0, 6)).join(",")}]`).join(" ")
    }
    return wait.pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new Error(`timed out waiting for a connected overlay with still views (connected: ${connected}; ${describe()})`)
      })
    )
  })
