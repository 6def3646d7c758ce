/**
 * Message-overlap merge (behaviour.md §3.6): if a record shows recent messages none of which we have seen, its
 * author is in another partition; join it (and its neighbours). Independent of bubble merge and of the
 * neighbour count.
 */
import { Effect } from "effect"
import { runMessageOverlap } from "./internal/merge.js"
import { actor } from "./TopicContext.js"

export { disjointRecords, overlapTick as tick, runMessageOverlap as run } from "./internal/merge.js"

/**
 * Message-overlap merge as an actor Layer (part of `Topic.defaultActors`); idle when
 * `config.merge.messageOverlap.enabled` is off.
 */
export const layer = actor((context) =>
  context.config.merge.messageOverlap.enabled ? runMessageOverlap(context) : Effect.void
)
