// Real-endpoint test helpers: nodes on 127.0.0.1, relays off, each in its own scope so a test can kill one.
import { type EndpointId, type Gossip, NodeIdentity } from "@dtt/core"
import { Overlay } from "@dtt/testkit"
import { Chunk, Duration, Effect, Exit, Fiber, Schedule, Scope, Stream } from "effect"
import * as GossipIroh from "../src/GossipIroh.js"

export interface TestNode {
  readonly id: EndpointId.EndpointId
  readonly service: GossipIroh.GossipIrohService
  readonly scope: Scope.CloseableScope
  readonly kill: Effect.Effect<void>
}

export const spawnNode = (options: GossipIroh.GossipIrohOptions = {}, secretKey?: Uint8Array) =>
  Effect.gen(function*() {
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
  Effect.gen(function*() {
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

type Member = { readonly id: EndpointId.EndpointId; readonly topic: Gossip.GossipTopic }

/** Each member's active view, keyed by its id. */
const activeViews = (members: ReadonlyArray<Member>) =>
  Effect.map(
    Effect.forEach(members, (m) => Effect.map(m.topic.neighbors, (ns) => [m.id, [...ns].sort()] as const)),
    (entries) => new Map(entries)
  )

/**
 * Waits until the active views are `Overlay.connected` (every member reaches every other one along "b is in a's
 * view" edges, the edges Plumtree pushes along) and have stayed unchanged for `quietFor`. HyParView views are not
 * always symmetric (see the loopback test), and right after the joins ForwardJoin walks and Neighbor handshakes
 * still move edges: a message flooded while an edge moves can miss the node at its end (Plumtree repairs only
 * through IHaves on edges that exist when the message passes).
 */
export const overlayQuiet = (
  members: ReadonlyArray<Member>,
  quietFor: Duration.DurationInput,
  timeout: Duration.DurationInput
) =>
  Effect.suspend(() => {
    let views: ReadonlyMap<EndpointId.EndpointId, ReadonlyArray<EndpointId.EndpointId>> = new Map()
    let connected = false
    const wait = Effect.gen(function*() {
      let lastKey = ""
      let since = 0
      while (true) {
        const now = performance.now()
        views = yield* activeViews(members)
        const key = [...views.values()].map((v) => v.join()).join("|")
        connected = Overlay.connected(views)
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
      return [...views.values()]
        .map((v, i) => `${i}->[${v.map((n) => index.get(n) ?? n.slice(0, 6)).join(",")}]`)
        .join(" ")
    }
    return wait.pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new Error(
            `timed out waiting for a connected overlay with still views (connected: ${connected}; ${describe()})`
          )
      })
    )
  })
