/**
 * Bubble merge (behaviour.md §3.5): while a node has fewer than `minNeighbors` neighbours, join a random few of
 * the peers the DHT records advertise, so small isolated bubbles grow into the swarm.
 */
export { bubbleTick as tick, runBubble as run } from "./internal/merge.js"
