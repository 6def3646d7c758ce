/**
 * Choosing a topic's actors: the join runs `Topic.defaultActors` unless `actors` says otherwise. Here alice leaves
 * message-overlap merge out and adds an actor of her own that logs her neighbour count every 5 s; bob keeps the
 * defaults. Actors are Layers needing `TopicContext`; closing the topic (here: the end of the program's scope)
 * interrupts them. On the testkit's in-memory doubles, nothing touches a real network.
 *
 *   npx tsx examples/custom-actors.ts
 */
import { Bootstrap, BubbleMerge, Crypto, Publisher, Topic, TopicContext, TopicId } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { Effect, Layer, Scope } from "effect"

const topicId = TopicId.fromName("examples/custom-actors")
const secret = "a secret both nodes know"

/** An actor of our own: every 5 s, how many neighbours the topic has. */
const neighbourLog = TopicContext.actor((context) =>
  Effect.forever(
    Effect.zipRight(
      Effect.flatMap(context.neighbors, (peers) => Effect.log(`alice has ${peers.length} neighbour(s)`)),
      Effect.sleep("5 seconds")
    )
  )
)

/** The default set without MessageOverlapMerge.layer, plus the log. */
const aliceActors = Layer.mergeAll(Publisher.layer, Bootstrap.rediscoverLayer, BubbleMerge.layer, neighbourLog)

const joinOn = (sim: SimNetwork.SimNetwork, index: number, scope: Scope.Scope, options: Partial<Topic.JoinOptions>) =>
  Effect.gen(function*() {
    const services = yield* Layer.buildWithScope(Layer.merge(sim.node(index), Crypto.layerNode), scope)
    return yield* Topic.joinNoWait(topicId, { secret, ...options }).pipe(Effect.provide(services), Scope.extend(scope))
  })

const program = Effect.gen(function*() {
  const sim = yield* SimNetwork.make()
  const scope = yield* Effect.scope
  const alice = yield* joinOn(sim, 0, scope, { actors: aliceActors })
  const bob = yield* joinOn(sim, 1, scope, {})
  yield* Effect.all([alice.joined, bob.joined], { concurrency: 2 })
  // Long enough for the log actor to run three times; then the scope closes both topics and their actors.
  yield* Effect.sleep("11 seconds")
})

await Effect.runPromise(program.pipe(Effect.scoped, Effect.timeout("60 seconds")))
