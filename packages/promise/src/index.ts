/**
 * `distributed-topic-tracker`: peers that share a topic name and a secret find each other through the mainline
 * BitTorrent DHT and talk over iroh-gossip, byte-compatible with the Rust crate of the same name (0.3.5).
 * A Promise API over the Effect packages `@dtt/core`, `@dtt/dht-mainline` and `@dtt/gossip-iroh`.
 */
export { type ErrorTag, isTopicTrackerError, TopicTrackerError } from "./Errors.js"
export type { MetricSample } from "./Metrics.js"
export { createNode, joinTopic, type Node } from "./Node.js"
export * as NodeLayer from "./NodeLayer.js"
export type {
  ConfigInput,
  GossipOptions,
  JoinOptions,
  NodeOptions,
  PeerCacheOptions,
  SecretRotation
} from "./Options.js"
export { configProfiles } from "./profiles.js"
export type { DiscoveryEvent, Message, Topic, TopicEvent } from "./Topic.js"
