/**
 * The Effect API on the testkit's in-memory doubles: two nodes join one topic and one greets the other. Nothing
 * touches a real network. For the real world, swap `sim.node(i)` for `DhtMainline.layer(...)` and
 * `GossipIroh.layer(...)` (see packages/core/README.md).
 *
 *   npx tsx examples/effect-memory.ts
 */
import { Crypto, Topic, TopicId } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { Effect, Layer, Scope } from "effect"

const topicId = TopicId.fromName("examples/effect-memory")
const secret = "a secret both nodes know"

/** Join the topic on one simulated node's services; the node lives as long as the given scope. */
const joinOn = (sim: SimNetwork.SimNetwork, index: number, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const services = yield* Layer.buildWithScope(Layer.merge(sim.node(index), Crypto.layerNode), scope)
    return yield* Topic.joinNoWait(topicId, { secret }).pipe(Effect.provide(services), Scope.extend(scope))
  })

const program = Effect.gen(function*() {
  const sim = yield* SimNetwork.make()
  const scope = yield* Effect.scope
  const alice = yield* joinOn(sim, 0, scope)
  const bob = yield* joinOn(sim, 1, scope)
  const inbox = yield* bob.receiver
  yield* Effect.all([alice.joined, bob.joined], { concurrency: 2 })
  const sender = yield* alice.sender
  yield* sender.broadcast(new TextEncoder().encode("hello from alice"))
  while (true) {
    const event = yield* inbox.next
    if (event._tag === "Received") {
      console.log(`bob got ${JSON.stringify(new TextDecoder().decode(event.content))} from ${event.deliveredFrom}`)
      return
    }
  }
})

await Effect.runPromise(program.pipe(Effect.scoped, Effect.timeout("60 seconds")))
