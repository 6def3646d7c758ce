/**
 * Everything a topic can be tuned with, as one Schema: the fields, defaults and rules of the Rust crate's
 * `Config` (spec behaviour.md §1), plus two options users asked for that the Rust crate lacks (an overall
 * bootstrap timeout and peers to try before the DHT).
 *
 * - `decode(partial)` fills every missing field with its default and applies the one cross-field rule
 *   (`maxBootstrapRecords = 0` disables the publisher).
 * - `config` is the same structure as an Effect `Config`, so it can come from environment variables:
 *   `fromEnv` reads `DTT_BOOTSTRAP_MAX_BOOTSTRAP_RECORDS`, `DTT_PUBLISHER_ENABLED`, `DTT_TIMEOUTS_BROADCAST_TIMEOUT`, ...
 *
 * Durations are written as milliseconds (numbers) in the encoded form. Where Rust silently ignores a zero
 * ("zero-guarded" setters), we reject it with an error naming the field: a silent fallback hides mistakes.
 * A strategy is switched off with `enabled: false` (Rust passes a `Disabled` enum variant); its other settings
 * are kept so switching it back on needs nothing else.
 */
import {
  Config as EffectConfig,
  ConfigError,
  ConfigProvider,
  Data,
  Duration,
  Effect,
  Either,
  Option,
  ParseResult,
  Schema
} from "effect"
import * as EndpointId from "./EndpointId.js"

/** Milliseconds (finite, integer, ≥ 0) in the encoded form, a `Duration` once decoded. */
const Millis = Schema.transform(
  Schema.Number.pipe(Schema.int(), Schema.nonNegative(), Schema.finite()).annotations({
    description: "a duration in whole milliseconds, ≥ 0"
  }),
  Schema.DurationFromSelf,
  { strict: true, decode: (ms) => Duration.millis(ms), encode: (d) => Duration.toMillis(d) }
)

/** As `Millis`, but zero is refused (Rust's zero-guarded fields). */
const PositiveMillis = Schema.transform(
  Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.finite()).annotations({
    description: "a duration in whole milliseconds, > 0"
  }),
  Schema.DurationFromSelf,
  { strict: true, decode: (ms) => Duration.millis(ms), encode: (d) => Duration.toMillis(d) }
)

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative()).annotations({ description: "an integer ≥ 0" })
const PositiveCount = Schema.Number.pipe(Schema.int(), Schema.positive()).annotations({ description: "an integer ≥ 1" })

const EndpointIdSchema = Schema.String.pipe(
  Schema.filter((s) => Either.isRight(EndpointId.fromHex(s)), {
    message: () => "expected 64 hex characters (an endpoint id)"
  }),
  Schema.transform(Schema.String, {
    strict: true,
    decode: (s) => s.toLowerCase(),
    encode: (s) => s
  })
) as unknown as Schema.Schema<EndpointId.EndpointId, string>

const ms = (n: number) => Duration.millis(n)
const field = <A, I>(schema: Schema.Schema<A, I>, value: A) => Schema.optionalWith(schema, { default: () => value })

/** behaviour.md §1.3, plus `timeout` and `initialPeers`. */
export const BootstrapConfig = Schema.Struct({
  /** Cooperative cap: do not publish into a minute slot that already holds this many other records. 0 = never publish. */
  maxBootstrapRecords: field(Count, 5),
  /**
   * Not in Rust: also use each minute's private slot, whose keys need the secret (PROTOCOL.md "Private slots"),
   * so an attacker who knows only the topic name cannot starve discovery. Costs about twice the DHT gets and puts.
   * The Rust-compatible slot is read and written either way.
   */
  privateSlots: field(Schema.Boolean, true),
  noPeersRetryInterval: field(Millis, ms(1500)),
  perPeerJoinSettleTime: field(Millis, ms(100)),
  joinConfirmationWaitTime: field(Millis, ms(500)),
  discoveryPollInterval: field(Millis, ms(2000)),
  publishRecordOnStartup: field(Schema.Boolean, true),
  checkOlderRecordsFirstOnStartup: field(Schema.Boolean, false),
  /** Not in Rust: give up joining after this long (`Topic.join` fails, the topic closes). Absent = wait forever, as Rust. */
  timeout: Schema.optionalWith(PositiveMillis, { as: "Option" }),
  /** Not in Rust: endpoint ids handed to the gossip subscription before the DHT is asked. */
  initialPeers: field(Schema.Array(EndpointIdSchema), []),
  /**
   * Not in Rust: a joined node that has had no neighbour for this long runs the bootstrap loop again (and again,
   * until it has one). 0 = never (Rust: a node whose neighbours all left stays alone).
   */
  rediscoverAfter: field(Millis, ms(5000))
})
export type BootstrapConfig = typeof BootstrapConfig.Type

/** behaviour.md §1.4. */
export const PublisherConfig = Schema.Struct({
  enabled: field(Schema.Boolean, true),
  initialDelay: field(Millis, ms(10_000)),
  baseInterval: field(PositiveMillis, ms(10_000)),
  maxJitter: field(Millis, ms(50_000)),
  failTopicCreationOnPublishingStartupFailure: field(Schema.Boolean, true)
})
export type PublisherConfig = typeof PublisherConfig.Type

/** behaviour.md §1.2 (what `Dht.make` is built with), plus the bound on values one get collects. */
export const DhtConfig = Schema.Struct({
  retries: field(Count, 3),
  baseRetryInterval: field(PositiveMillis, ms(5000)),
  maxRetryJitter: field(Millis, ms(10_000)),
  putTimeout: field(PositiveMillis, ms(10_000)),
  getTimeout: field(PositiveMillis, ms(10_000)),
  maxGetValues: field(PositiveCount, 64)
})
export type DhtConfig = typeof DhtConfig.Type

const mergeFields = {
  enabled: field(Schema.Boolean, true),
  initialInterval: field(Millis, ms(30_000)),
  baseInterval: field(PositiveMillis, ms(60_000)),
  maxJitter: field(Millis, ms(120_000)),
  failTopicCreationOnMergeStartupFailure: field(Schema.Boolean, true),
  /** Size of the random subset of candidates handed to one `joinPeers`. */
  maxJoinPeers: field(PositiveCount, 2)
}

/** behaviour.md §1.5, bubble merge. */
export const BubbleMergeConfig = Schema.Struct({
  ...mergeFields,
  /** Merge only while the node has fewer neighbours than this (0 = never). */
  minNeighbors: field(Count, 4)
})
export type BubbleMergeConfig = typeof BubbleMergeConfig.Type

/** behaviour.md §1.5, message-overlap merge. */
export const MessageOverlapMergeConfig = Schema.Struct(mergeFields)
export type MessageOverlapMergeConfig = typeof MessageOverlapMergeConfig.Type

export const MergeConfig = Schema.Struct({
  bubble: Schema.optionalWith(BubbleMergeConfig, { default: () => Schema.decodeSync(BubbleMergeConfig)({}) }),
  messageOverlap: Schema.optionalWith(MessageOverlapMergeConfig, {
    default: () => Schema.decodeSync(MessageOverlapMergeConfig)({})
  })
})
export type MergeConfig = typeof MergeConfig.Type

/** behaviour.md §1.6. */
export const TimeoutConfig = Schema.Struct({
  joinPeerTimeout: field(Millis, ms(5000)),
  broadcastTimeout: field(Millis, ms(5000)),
  broadcastNeighborsTimeout: field(Millis, ms(5000))
})
export type TimeoutConfig = typeof TimeoutConfig.Type

const ConfigFields = Schema.Struct({
  bootstrap: Schema.optionalWith(BootstrapConfig, { default: () => Schema.decodeSync(BootstrapConfig)({}) }),
  publisher: Schema.optionalWith(PublisherConfig, { default: () => Schema.decodeSync(PublisherConfig)({}) }),
  /**
   * The policy of the node's `Dht` service. A `Topic` uses the `Dht` it is given and does not rebuild it (one
   * service serves every topic of a node), so this takes effect where the layer is built, e.g.
   * `DhtMainline.layer({ dht: config.dht })` or `Dht.make(transport, config.dht)`.
   */
  dht: Schema.optionalWith(DhtConfig, { default: () => Schema.decodeSync(DhtConfig)({}) }),
  merge: Schema.optionalWith(MergeConfig, { default: () => Schema.decodeSync(MergeConfig)({}) }),
  /** Read by nothing, exactly as in Rust 0.3.5 (spec §3.8); kept so configs written for Rust carry over. */
  maxJoinPeerCount: field(PositiveCount, 4),
  timeouts: Schema.optionalWith(TimeoutConfig, { default: () => Schema.decodeSync(TimeoutConfig)({}) })
})

/** The one cross-field rule (Rust `Config::build`): nothing may be published when the cap is 0. */
const applyRules = (c: typeof ConfigFields.Type): typeof ConfigFields.Type =>
  c.bootstrap.maxBootstrapRecords === 0 && c.publisher.enabled
    ? { ...c, publisher: { ...c.publisher, enabled: false } }
    : c

export const Config = Schema.transform(ConfigFields, Schema.typeSchema(ConfigFields), {
  strict: true,
  decode: applyRules,
  encode: (c) => c
})
export type Config = typeof Config.Type
/** What `decode` accepts: any subset of the fields, durations in milliseconds. */
export type Encoded = typeof Config.Encoded

/** A field had an invalid value; `field` is its dotted path (`bootstrap.maxBootstrapRecords`). */
export class InvalidConfig extends Data.TaggedError("InvalidConfig")<{
  readonly field: string
  readonly reason: string
}> {
  override get message() {
    return `invalid config field ${this.field}: ${this.reason}`
  }
}

const toInvalidConfig = (error: ParseResult.ParseError): InvalidConfig => {
  const [first] = ParseResult.ArrayFormatter.formatErrorSync(error)
  return new InvalidConfig({
    field: first ? first.path.map(String).join(".") || "(root)" : "(root)",
    reason: first?.message ?? String(error)
  })
}

/** Decode a partial object (missing fields take their defaults). Fails with the first invalid field. */
export const decode = (input: unknown): Effect.Effect<Config, InvalidConfig> =>
  Effect.mapError(Schema.decodeUnknown(Config, { onExcessProperty: "error" })(input), toInvalidConfig)

export const decodeEither = (input: unknown): Either.Either<Config, InvalidConfig> =>
  Either.mapLeft(Schema.decodeUnknownEither(Config, { onExcessProperty: "error" })(input), toInvalidConfig)

/** Throws `InvalidConfig`. */
export const decodeSync = (input: unknown): Config => Either.getOrThrow(decodeEither(input))

/** Every default of behaviour.md §1. */
export const defaults: Config = decodeSync({})

/** The encoded (plain JSON) form, e.g. to print or store. */
export const encode = (config: Config): Encoded => Schema.encodeSync(Config)(config)

// ---------------------------------------------------------------------------------------------------------------
// Environment / Effect `Config`

type Leaf = "duration" | "optionalDuration" | "boolean" | "number" | "ids"

/** The leaves of the structure, found from the defaults so the list cannot drift from the Schema. */
const leaves = (
  value: Record<string, unknown>,
  path: ReadonlyArray<string> = []
): Array<[ReadonlyArray<string>, Leaf]> =>
  Object.entries(value).flatMap(([key, v]): Array<[ReadonlyArray<string>, Leaf]> => {
    const at = [...path, key]
    if (Duration.isDuration(v)) return [[at, "duration"]]
    if (Option.isOption(v)) return [[at, "optionalDuration"]]
    if (typeof v === "boolean") return [[at, "boolean"]]
    if (typeof v === "number") return [[at, "number"]]
    if (Array.isArray(v)) return [[at, "ids"]]
    return leaves(v as Record<string, unknown>, at)
  })

/** A raw string from the environment in the encoded form; garbage stays garbage so the Schema names the field. */
const parseLeaf = (kind: Leaf, raw: string): unknown => {
  const text = raw.trim()
  switch (kind) {
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text
    case "ids":
      return text === "" ? [] : text.split(",").map((s) => s.trim())
    case "number":
    case "duration":
    case "optionalDuration":
      return text !== "" && Number.isFinite(Number(text)) ? Number(text) : text
  }
}

const setPath = (target: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown) => {
  let at = target
  for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>
  at[path[path.length - 1]!] = value
}

/**
 * The configuration as an Effect `Config`, rooted at `dtt` with camelCase names: with
 * `ConfigProvider.fromEnv().pipe(ConfigProvider.constantCase)` the variable for `bootstrap.maxBootstrapRecords` is
 * `DTT_BOOTSTRAP_MAX_BOOTSTRAP_RECORDS`. Unset variables take the defaults.
 */
export const config: EffectConfig.Config<Config> = (() => {
  const table = leaves(defaults as unknown as Record<string, unknown>)
  const leafConfigs = table.map(([path]) => {
    let c: EffectConfig.Config<string> = EffectConfig.string(path[path.length - 1]!)
    for (const key of path.slice(0, -1).reverse()) c = EffectConfig.nested(c, key)
    return EffectConfig.option(c)
  })
  return EffectConfig.all(leafConfigs).pipe(
    EffectConfig.mapOrFail((values) => {
      const encoded: Record<string, unknown> = {}
      values.forEach((value, i) => {
        if (Option.isSome(value)) setPath(encoded, table[i]![0], parseLeaf(table[i]![1], value.value))
      })
      return Either.mapLeft(
        decodeEither(encoded),
        (e) => ConfigError.InvalidData(["dtt", ...e.field.split(".")], e.reason)
      )
    }),
    EffectConfig.nested("dtt")
  )
})()

/** Read the configuration from `process.env` (`DTT_...` variables, CONSTANT_CASE). */
export const fromEnv: Effect.Effect<Config, ConfigError.ConfigError> = Effect.withConfigProvider(
  config,
  ConfigProvider.fromEnv().pipe(ConfigProvider.constantCase)
)
