/**
 * The publisher actor (behaviour.md §3.4): after joining, refresh our record (neighbours, recent message hashes)
 * in the current minute's slot: first after `initialDelay`, then every `max(base, 1 s) + U[0, maxJitter)` measured
 * from the end of each publish. The cooperative cap in `RecordPublisher.publishRecord` keeps the puts per slot
 * bounded however many nodes run.
 */
import { Effect } from "effect"
import { run } from "./internal/publisher.js"
import { actor } from "./TopicContext.js"

export { run, tick } from "./internal/publisher.js"

/** The publisher as an actor Layer (part of `Topic.defaultActors`); idle when `config.publisher.enabled` is off. */
export const layer = actor((context) => context.config.publisher.enabled ? run(context) : Effect.void)
