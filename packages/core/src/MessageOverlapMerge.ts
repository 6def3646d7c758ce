/**
 * Message-overlap merge (behaviour.md §3.6): if a record shows recent messages none of which we have seen, its
 * author is in another partition; join it (and its neighbours). Independent of bubble merge and of the
 * neighbour count.
 */
export { disjointRecords, overlapTick as tick, runMessageOverlap as run } from "./internal/merge.js"
