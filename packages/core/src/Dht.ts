/**
 * The DHT as distributed-topic-tracker uses it: BEP44 mutable items, read from and written to the storing nodes
 * closest to a target. One contract, several implementations (the memory DHT of `@dtt/testkit`, the mainline
 * DHT of `@dtt/dht-mainline`), all held to `dhtCompliance` in `@dtt/testkit`.
 *
 * Implementations supply a `DhtTransport` (one lookup, one store attempt) and build the service with `make`,
 * which adds the behaviour every implementation shares: de-duplication, the bound on values and time of a get,
 * and the timeout plus retry schedule of a put.
 */
import { Context, Data, Duration, Effect, Option, Random, Schedule, Stream } from "effect"
import { toLatin1 } from "./internal/bytes.js"

/** A signed BEP44 mutable item. `seq` is exact (bigint): it is part of the signed bytes. */
export interface MutableItem {
  readonly publicKey: Uint8Array
  readonly salt: Uint8Array
  readonly seq: bigint
  readonly value: Uint8Array
  readonly signature: Uint8Array
}

export class DhtTimeout extends Data.TaggedError("DhtTimeout")<{
  readonly operation: "get" | "put"
  readonly after: Duration.Duration
}> {}

/** No storing node could be reached (no routing table, socket closed, every request failed). */
export class DhtUnavailable extends Data.TaggedError("DhtUnavailable")<{ readonly reason: string }> {}

/** Storing nodes answered, but none accepted the item (BEP44 error codes such as 301 CAS mismatch, 302 old seq). */
export class DhtPutRejected extends Data.TaggedError("DhtPutRejected")<{
  readonly reason: string
  readonly code?: number
}> {}

/** The item can never be stored: value or salt too large, bad key length. Not retried. */
export class DhtInvalidItem extends Data.TaggedError("DhtInvalidItem")<{ readonly reason: string }> {}

export type DhtError = DhtTimeout | DhtUnavailable | DhtPutRejected | DhtInvalidItem

export interface PutOptions {
  /** Compare-and-swap: the seq the writer expects the storing node to hold. distributed-topic-tracker sends i64::MAX. */
  readonly cas?: bigint
}

export interface PutReceipt {
  /** How many storing nodes acknowledged the put in the successful attempt. */
  readonly storedAt: number
  /** Attempts made, the successful one included. */
  readonly attempts: number
}

export interface DhtService {
  /**
   * Every distinct verified value the reachable storing nodes hold for SHA-1(publicKey ‖ salt), at most
   * `maxGetValues` of them. Reaching `getTimeout` ends the lookup and returns what was collected so far
   * (the Rust crate throws partial results away; we keep them).
   */
  readonly getMutable: (publicKey: Uint8Array, salt: Uint8Array) => Effect.Effect<ReadonlyArray<MutableItem>, DhtError>
  /**
   * Not in Rust: the first distinct verified value that `accept` maps to `Some`, as soon as a storing node returns
   * it; the rest of the lookup is abandoned. `None` when the lookup ends (or `getTimeout` passes) without one.
   * For readers that can act on any valid value (the first address record of a peer they are about to dial) and
   * should not wait for the slowest storing node. Optional so that wrappers of a `DhtService` keep compiling;
   * `firstMutable` (below) falls back to `getMutable` without it.
   */
  readonly findMutable?: <A>(
    publicKey: Uint8Array,
    salt: Uint8Array,
    accept: (item: MutableItem) => Option.Option<A>
  ) => Effect.Effect<Option.Option<A>, DhtError>
  /** Store a signed item; succeeds when at least one storing node acknowledges. Retried per `DhtConfig`. */
  readonly putMutable: (item: MutableItem, options?: PutOptions) => Effect.Effect<PutReceipt, DhtError>
}

export class Dht extends Context.Tag("@dtt/core/Dht")<Dht, DhtService>() {}

/** What an implementation provides: a single lookup and a single store attempt, with no policy of their own. */
export interface DhtTransport {
  /**
   * The items storing nodes return for the target, as they arrive. Only items whose target and signature
   * verify may be emitted; duplicates are allowed (the policy removes them). The stream ends when the lookup
   * has finished.
   */
  readonly lookup: (publicKey: Uint8Array, salt: Uint8Array) => Stream.Stream<MutableItem, DhtError>
  /** One store attempt to the storing nodes closest to the target. */
  readonly store: (item: MutableItem, cas: bigint | undefined) => Effect.Effect<{ readonly storedAt: number }, DhtError>
}

/** Behaviour of `getMutable`/`putMutable`; the defaults are those of the Rust crate (spec behaviour.md §1.2). */
export interface DhtConfig {
  /** Put attempts after the first one. */
  readonly retries: number
  readonly baseRetryInterval: Duration.Duration
  /** Uniform jitter in [0, max) added to `baseRetryInterval` between put attempts. */
  readonly maxRetryJitter: Duration.Duration
  readonly putTimeout: Duration.Duration
  readonly getTimeout: Duration.Duration
  /** Upper bound on distinct values one get collects (the Rust crate has none, which grew memory in production). */
  readonly maxGetValues: number
}

export const defaultDhtConfig: DhtConfig = {
  retries: 3,
  baseRetryInterval: Duration.seconds(5),
  maxRetryJitter: Duration.seconds(10),
  putTimeout: Duration.seconds(10),
  getTimeout: Duration.seconds(10),
  maxGetValues: 64
}

const valueKey = (item: MutableItem): string =>
  `${item.seq}:${item.signature.length}:${toLatin1(item.signature)}${toLatin1(item.value)}`

/** The pause between put attempts: base + U[0, maxJitter), drawn from `Random` so tests can drive it. */
export const retrySchedule = (config: Pick<DhtConfig, "retries" | "baseRetryInterval" | "maxRetryJitter">) => {
  const baseMillis = Duration.toMillis(config.baseRetryInterval)
  const jitterMillis = Duration.toMillis(config.maxRetryJitter)
  return Schedule.recurs(config.retries).pipe(
    Schedule.addDelayEffect(() =>
      jitterMillis > 0
        ? Effect.map(Random.nextRange(0, jitterMillis), (j) => Duration.millis(baseMillis + Math.floor(j)))
        : Effect.succeed(Duration.millis(baseMillis))
    )
  )
}

/** Build the service from a transport, adding de-duplication, bounds, timeouts and retries. */
export const make = (transport: DhtTransport, config: DhtConfig = defaultDhtConfig): DhtService => ({
  // Collected by hand rather than with `Stream.filter/take/interruptAfter/runCollect`: same result (distinct values
  // in arrival order, at most `maxGetValues`, what arrived before `getTimeout` kept, transport errors passed on),
  // at about a third of the cost, which is what large simulations spend most of their time on.
  getMutable: (publicKey, salt) =>
    Effect.suspend(() => {
      const seen = new Set<string>()
      const collected: Array<MutableItem> = []
      const collect = Stream.runForEachWhile(transport.lookup(publicKey, salt), (item) =>
        Effect.sync(() => {
          const key = valueKey(item)
          if (!seen.has(key)) {
            seen.add(key)
            collected.push(item)
          }
          return collected.length < config.maxGetValues
        }))
      return Effect.as(Effect.timeoutOption(collect, config.getTimeout), collected)
    }),
  findMutable: <A>(publicKey: Uint8Array, salt: Uint8Array, accept: (item: MutableItem) => Option.Option<A>) =>
    Effect.suspend(() => {
      const seen = new Set<string>()
      let found = Option.none<A>()
      const search = Stream.runForEachWhile(transport.lookup(publicKey, salt), (item) =>
        Effect.sync(() => {
          const key = valueKey(item)
          if (seen.has(key)) return true
          seen.add(key)
          found = accept(item)
          return Option.isNone(found) && seen.size < config.maxGetValues
        }))
      return Effect.map(Effect.timeoutOption(search, config.getTimeout), () => found)
    }),
  putMutable: (item, options) =>
    Effect.suspend(() => {
      let attempts = 0
      const attempt = Effect.suspend(() => {
        attempts++
        return transport.store(item, options?.cas).pipe(
          Effect.timeoutFail({
            duration: config.putTimeout,
            onTimeout: () => new DhtTimeout({ operation: "put", after: config.putTimeout })
          })
        )
      })
      return attempt.pipe(
        Effect.retry({ schedule: retrySchedule(config), while: (e) => e._tag !== "DhtInvalidItem" }),
        Effect.map(({ storedAt }): PutReceipt => ({ storedAt, attempts }))
      )
    })
})

/**
 * The first value `accept` takes (`DhtService.findMutable`), or, from a service without it, the first of a whole
 * `getMutable` collection that `accept` takes.
 */
export const firstMutable = <A>(
  dht: DhtService,
  publicKey: Uint8Array,
  salt: Uint8Array,
  accept: (item: MutableItem) => Option.Option<A>
): Effect.Effect<Option.Option<A>, DhtError> =>
  dht.findMutable !== undefined
    ? dht.findMutable(publicKey, salt, accept)
    : Effect.map(dht.getMutable(publicKey, salt), (items) => {
      for (const item of items) {
        const accepted = accept(item)
        if (Option.isSome(accepted)) return accepted
      }
      return Option.none<A>()
    })
