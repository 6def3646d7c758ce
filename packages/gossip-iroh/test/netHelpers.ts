// Real-endpoint test helpers: nodes on 127.0.0.1, relays off, each in its own scope so a test can kill one.
import { Chunk, Duration, Effect, Exit, Fiber, Scope, Stream } from "effect"
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
  Effect.suspend(() => (check() ? Effect.void : Effect.fail(what))).pipe(
    Effect.retry({ schedule: Schedule_spaced20 }),
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`timed out waiting for: ${what}`) })
  )

import { Schedule } from "effect"
const Schedule_spaced20 = Schedule.spaced(Duration.millis(20))

export { Chunk, Fiber }
