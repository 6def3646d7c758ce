/**
 * Protocol parameters with iroh-gossip 0.101's defaults (spec iroh-gossip.md §3.2). Durations are milliseconds.
 * Every node of a swarm should use the same values.
 */
import { DEFAULT_MAX_MESSAGE_SIZE, MIN_MAX_MESSAGE_SIZE } from "../wire/frame.js"

export interface HyParViewConfig {
  readonly activeViewCapacity: number
  readonly passiveViewCapacity: number
  /** Hops of a ForwardJoin walk (ARWL). */
  readonly activeRandomWalkLength: number
  /** Hop count at which a ForwardJoin walker stores the joiner in its passive view (PRWL). */
  readonly passiveRandomWalkLength: number
  readonly shuffleRandomWalkLength: number
  readonly shuffleActiveViewCount: number
  readonly shufflePassiveViewCount: number
  readonly shuffleInterval: number
  readonly neighborRequestTimeout: number
}

export interface PlumtreeConfig {
  /** IHave received -> Graft if the payload has not arrived by then. */
  readonly graftTimeout1: number
  /** Graft sent -> try the next IHave sender. */
  readonly graftTimeout2: number
  /** IHave batching delay. */
  readonly dispatchTimeout: number
  /** Hops a lazy path must save before the tree is re-wired. */
  readonly optimizationThreshold: number
  readonly messageCacheRetention: number
  readonly messageIdRetention: number
  readonly cacheEvictInterval: number
}

export interface ProtoConfig {
  readonly membership: HyParViewConfig
  readonly broadcast: PlumtreeConfig
  readonly maxMessageSize: number
}

export const defaultHyParViewConfig: HyParViewConfig = {
  activeViewCapacity: 5,
  passiveViewCapacity: 30,
  activeRandomWalkLength: 6,
  passiveRandomWalkLength: 3,
  shuffleRandomWalkLength: 6,
  shuffleActiveViewCount: 3,
  shufflePassiveViewCount: 4,
  shuffleInterval: 60_000,
  neighborRequestTimeout: 500
}

export const defaultPlumtreeConfig: PlumtreeConfig = {
  graftTimeout1: 80,
  graftTimeout2: 40,
  dispatchTimeout: 5,
  optimizationThreshold: 7,
  messageCacheRetention: 30_000,
  messageIdRetention: 90_000,
  cacheEvictInterval: 1_000
}

export const defaultProtoConfig: ProtoConfig = {
  membership: defaultHyParViewConfig,
  broadcast: defaultPlumtreeConfig,
  maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE
}

/** Rust asserts the same bound when building a node. */
export const assertMaxMessageSize = (maxMessageSize: number): void => {
  if (!Number.isInteger(maxMessageSize) || maxMessageSize < MIN_MAX_MESSAGE_SIZE) {
    throw new RangeError(`maxMessageSize must be an integer >= ${MIN_MAX_MESSAGE_SIZE}`)
  }
}

/** A full config from partial overrides. */
export const makeProtoConfig = (
  overrides: {
    readonly membership?: Partial<HyParViewConfig>
    readonly broadcast?: Partial<PlumtreeConfig>
    readonly maxMessageSize?: number
  } = {}
): ProtoConfig => {
  const maxMessageSize = overrides.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
  assertMaxMessageSize(maxMessageSize)
  return {
    membership: { ...defaultHyParViewConfig, ...overrides.membership },
    broadcast: { ...defaultPlumtreeConfig, ...overrides.broadcast },
    maxMessageSize
  }
}

/**
 * Bytes of the `{topic, Gossip(..)}` envelope minus the inner discriminant (Rust's `postcard_header_size`: 33 =
 * 32-byte topic + 1-byte outer variant). Plumtree sizes its IHave batches against `maxMessageSize` minus this.
 */
export const ENVELOPE_HEADER_SIZE = 33
/** Largest encoded `IHave` (32-byte id + 3-byte u16 varint). */
export const IHAVE_MAX_SIZE = 35

/** IHaves per `IHave` message (116 with the defaults), the formula of Rust's dispatch timer. */
export const ihaveChunkLength = (maxMessageSize: number): number =>
  Math.floor((maxMessageSize - ENVELOPE_HEADER_SIZE - 1 - 2) / IHAVE_MAX_SIZE)
