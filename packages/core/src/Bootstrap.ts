/**
 * The bootstrap actor (behaviour.md §3.3): until the node has a gossip neighbour, read the DHT slots of the last
 * two minutes, try every node they name one at a time, and publish an empty record at most once a minute so
 * others can find us. Runs inside the topic's scope; `Topic.join` starts it.
 */
import * as Rediscover from "./internal/rediscover.js"
import { actor } from "./TopicContext.js"

export { candidatesOf, run } from "./internal/bootstrap.js"

/**
 * The bootstrap actor's part after the join, as an actor Layer (part of `Topic.defaultActors`): a node that has
 * been without neighbours for `config.bootstrap.rediscoverAfter` runs the bootstrap loop again (PROTOCOL.md).
 * The first run is the join itself, which `Topic.join` always performs.
 */
export const rediscoverLayer = actor(Rediscover.run)
