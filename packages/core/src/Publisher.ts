/**
 * The publisher actor (behaviour.md §3.4): after joining, refresh our record (neighbours, recent message hashes)
 * in the current minute's slot: first after `initialDelay`, then every `max(base, 1 s) + U[0, maxJitter)` measured
 * from the end of each publish. The cooperative cap in `RecordPublisher.publishRecord` keeps the puts per slot
 * bounded however many nodes run.
 */
export { run, tick } from "./internal/publisher.js"
