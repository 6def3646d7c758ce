/**
 * iroh-gossip 0.101's protocol (HyParView membership + Plumtree broadcast) as a pure, sans-IO state machine, and
 * a simulator to run many nodes in one process.
 */
export * from "./config.js"
export * from "./events.js"
export { type Rng, seededRng } from "./rng.js"
export { IndexSet, TimerMap, TimeBoundCache } from "./util.js"
export { HyParView } from "./hyparview.js"
export { messageIdOf, Plumtree, type PlumtreeStats } from "./plumtree.js"
export { TopicState } from "./topic.js"
export { ProtoState } from "./state.js"
export * as Sim from "./sim.js"
