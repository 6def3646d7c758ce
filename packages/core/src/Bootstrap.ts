/**
 * The bootstrap actor (behaviour.md §3.3): until the node has a gossip neighbour, read the DHT slots of the last
 * two minutes, try every node they name one at a time, and publish an empty record at most once a minute so
 * others can find us. Runs inside the topic's scope; `Topic.join` starts it.
 */
export { candidatesOf, run } from "./internal/bootstrap.js"
