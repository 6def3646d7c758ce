/** Shared helpers for the scenario tests: nodes on the testkit's simulated network, driven by TestClock. */
import { Config, Crypto, type EndpointId, type NodeIdentity, Topic, TopicId } from "@dtt/core"
import { type SimNetwork } from "@dtt/testkit"
import { Duration, Effect, Layer, TestClock } from "effect"

export const TOPIC = TopicId.fromName("dtt-sim-topic")
export const SECRET = "dtt-sim-secret"

/** Node `index`'s services (identity, DHT, gossip, crypto), alive for the ambient scope. */
export const nodeContext = (sim: SimNetwork.SimNetwork, index: number) =>
  Layer.build(Layer.merge(sim.node(index), Crypto.layerNode))

export type NodeContext = Effect.Effect.Success<ReturnType<typeof nodeContext>>

type StartOptions = Partial<Topic.JoinOptions> & { readonly topicId?: TopicId.TopicId }

/** Join the topic without waiting on an already started node; the `Topic` handle lives for the ambient scope. */
export const joinOn = (context: NodeContext, options: StartOptions = {}) => {
  const { topicId, ...rest } = options
  return Effect.provide(
    Topic.joinNoWait(topicId ?? TOPIC, { secret: SECRET, config: Config.defaults, ...rest }),
    context
  )
}

/** Start node `index` and join without waiting; services and `Topic` handle live for the ambient scope. */
export const startNode = (sim: SimNetwork.SimNetwork, index: number, options: StartOptions = {}) =>
  Effect.flatMap(nodeContext(sim, index), (context) => joinOn(context, options))

/** Advance the TestClock in steps, letting every fiber run between steps. */
export const advance = (total: Duration.DurationInput, step: Duration.DurationInput = "100 millis") =>
  Effect.gen(function*() {
    const stepMs = Duration.toMillis(step)
    let left = Duration.toMillis(total)
    while (left > 0) {
      const d = Math.min(stepMs, left)
      yield* TestClock.adjust(Duration.millis(d))
      left -= d
    }
  })

/** Advance until `condition` holds, at most `limit`; returns the simulated milliseconds it took. */
export const advanceUntil = (
  condition: Effect.Effect<boolean>,
  limit: Duration.DurationInput,
  step: Duration.DurationInput = "100 millis"
) =>
  Effect.gen(function*() {
    const stepMs = Duration.toMillis(step)
    let spent = 0
    while (!(yield* condition)) {
      if (spent >= Duration.toMillis(limit)) return -1
      yield* TestClock.adjust(Duration.millis(stepMs))
      spent += stepMs
    }
    return spent
  })

/** Whether `peer` is among the topic's current neighbours (for `advanceUntil`). */
export const hasNeighbor = (topic: Topic.Topic, peer: EndpointId.EndpointId): Effect.Effect<boolean> =>
  Effect.map(topic.neighbors, (ns) => ns.includes(peer))

/** Connected components of the neighbour graph (undirected). */
export const components = (graph: ReadonlyMap<string, ReadonlyArray<string>>): Array<Set<string>> => {
  const seen = new Set<string>()
  const out: Array<Set<string>> = []
  const adj = new Map<string, Set<string>>()
  for (const [a, ns] of graph) {
    if (!adj.has(a)) adj.set(a, new Set())
    for (const b of ns) {
      adj.get(a)!.add(b)
      if (!adj.has(b)) adj.set(b, new Set())
      adj.get(b)!.add(a)
    }
  }
  for (const start of adj.keys()) {
    if (seen.has(start)) continue
    const comp = new Set<string>([start])
    const stack = [start]
    seen.add(start)
    while (stack.length > 0) {
      for (const n of adj.get(stack.pop()!)!) {
        if (!seen.has(n)) {
          seen.add(n)
          comp.add(n)
          stack.push(n)
        }
      }
    }
    out.push(comp)
  }
  return out
}

export type { NodeIdentity }
