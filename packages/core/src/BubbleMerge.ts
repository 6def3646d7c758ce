/**
 * Bubble merge (behaviour.md §3.5): while a node has fewer than `minNeighbors` neighbours, join a random few of
 * the peers the DHT records advertise, so small isolated bubbles grow into the swarm.
 */
import { Effect } from "effect"
import { runBubble } from "./internal/merge.js"
import { actor } from "./TopicContext.js"

export { bubbleTick as tick, runBubble as run } from "./internal/merge.js"

/** Bubble merge as an actor Layer (part of `Topic.defaultActors`); idle when `config.merge.bubble.enabled` is off. */
export const layer = actor((context) => context.config.merge.bubble.enabled ? runBubble(context) : Effect.void)
