/**
 * The options of `createNode` and `joinTopic`, as plain TypeScript types. Everything is optional: the defaults
 * make a node on the public mainline DHT and number0's relays, like the Rust crate's examples.
 */
import type { Config } from "@dtt/core"

/**
 * Tuning of the topic actors and the DHT policy, in the plain form of `@dtt/core`'s `Config`: any subset of
 * the fields, durations in milliseconds (e.g. `{ bootstrap: { discoveryPollInterval: 500 } }`). Invalid values
 * reject with an `InvalidConfig` error naming the field.
 */
export type ConfigInput = Config.Encoded

export interface GossipOptions {
  /** `"ip:port"` of the gossip (QUIC) endpoint. Default `"0.0.0.0:0"` (every interface, a free port). */
  readonly bindAddress?: string
  /**
   * `"default"` (number0's public relays: reachable behind NATs), `"disabled"` (direct addresses only: private
   * networks, tests) or the URLs of your own relays. Default `"default"`.
   */
  readonly relay?: "default" | "disabled" | ReadonlyArray<string>
  /**
   * `"n0"`: also use number0's DNS/pkarr address lookups, as Rust iroh nodes with the `N0` preset do. `"minimal"`:
   * only our mainline DHT lookup (no other servers). Default `"n0"`.
   */
  readonly preset?: "n0" | "minimal"
  /**
   * What this node writes about itself on the DHT so others can dial it by id: `"all"` (relay URL and direct
   * addresses; needed without relays) or `"relay-only"` (keeps IP addresses off the public DHT). Default `"all"`.
   */
  readonly publishAddresses?: "all" | "relay-only"
  /**
   * Frames one neighbour connection may queue (default 1024). When it is full, `broadcast` resolves only once
   * there is room again (back-pressure) instead of accepting what it would drop.
   */
  readonly sendQueueCapacity?: number
  /**
   * Milliseconds a send waits for room in a full connection queue (a neighbour that stopped reading) before that
   * neighbour's copy is dropped and counted. Default 2000.
   */
  readonly sendQueueTimeout?: number
  /**
   * Milliseconds `close()` may spend handing broadcasts already accepted to the connected neighbours before it
   * leaves. Default 1000; with nothing queued, close does not wait for it. 0 = leave at once.
   */
  readonly drainTimeout?: number
}

export interface NodeOptions {
  /** The node's 32-byte Ed25519 secret key (its iroh endpoint key); default a fresh random key. */
  readonly secretKey?: Uint8Array
  /** `"host:port"` DHT nodes to start from. Default: the mainline routers the Rust `mainline` crate uses. */
  readonly bootstrap?: ReadonlyArray<string>
  /** Address the DHT's UDP socket binds to. Default `"0.0.0.0"`. */
  readonly bindAddress?: string
  /** UDP port of the DHT socket; default 0 (a free port). */
  readonly port?: number
  readonly gossip?: GossipOptions
  /** Applies to every topic this node joins. */
  readonly config?: ConfigInput
  /**
   * Remember each topic's recent neighbours (at most 16, with their addresses) in files under `path` (a
   * directory, created if missing; file names are hashes that do not reveal the topic). A node created again
   * with the same path dials them at once, beside the DHT lookup, so a restart rejoins without waiting for the
   * DHT. A path that cannot be a writable directory rejects `createNode` with `PeerCacheUnavailable`.
   * Default: no cache.
   */
  readonly peerCache?: PeerCacheOptions
}

export interface PeerCacheOptions {
  /** Directory holding the cache. Keep it private to this node (one directory per secret key). */
  readonly path: string
}

/** How each minute's encryption key is derived from the secret; all members of a topic must use the same. */
export interface SecretRotation {
  /** Returns the 32-byte seed for `unixMinute`. Must be a pure function that does not throw. */
  readonly derive: (topicHash: Uint8Array, unixMinute: bigint, initialSecretHash: Uint8Array) => Uint8Array
}

export interface JoinOptions {
  /**
   * `true` (default): resolve once the node has a gossip neighbour on the topic. `false`: resolve at once;
   * discovery goes on in the background (`topic.joined()` tells when it succeeded).
   */
  readonly wait?: boolean
  /** Give up discovery after this long: a waiting join rejects with `JoinTimeout`; in every case the topic closes. */
  readonly timeoutMs?: number
  /** Default: the Rust crate's rotation. */
  readonly rotation?: SecretRotation
}
