/**
 * iroh-gossip 0.101's protocol (HyParView membership + Plumtree broadcast) as a pure, sans-IO state machine, and
 * a simulator to run many nodes in one process.
 */
export * from "./config.js"
export * from "./events.js"
export { HyParView, type HyParViewIn } from "./hyparview.js"
export { messageIdOf, Plumtree, type PlumtreeIn, type PlumtreeStats } from "./plumtree.js"
export { type Rng, seededRng } from "./rng.js"
export * as Sim from "./sim.js"
export { ProtoState } from "./state.js"
export { type TopicIn, TopicState } from "./topic.js"
export { IndexSet, TimeBoundCache, TimerMap } from "./util.js"
