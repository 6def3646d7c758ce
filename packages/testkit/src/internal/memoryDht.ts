/**
 * The model behind `MemoryDht`: a pool of storing nodes, each holding at most one value per target, and the
 * request/response exchange a client has with the K of them closest to a target.
 *
 * Everything here is synchronous state plus `Effect.sleep` for latency, so a whole network of clients runs
 * under `TestClock` without real waiting.
 */
import { Bep44, Bytes, Dht } from "@dtt/core"
import { sha1 } from "@noble/hashes/legacy.js"
import { Duration, Effect, Option, Stream } from "effect"
import { verifyStrict } from "./ed25519.js"
import { makePrng, type Prng } from "./prng.js"

type MutableItem = Dht.MutableItem

/**
 * How one storing node treats a put for a target it already holds (spec wire.md §6.4):
 * - `last-writer-wins`: pubky/mainline servers. Equal seq overwrites.
 * - `first-writer-wins`: libtorrent. Equal seq is acknowledged but the old value is kept.
 * - `reject-equal-seq`: the BEP44 text and the JS bittorrent-dht server. Equal seq gets error 302.
 */
export type StorageRule = "last-writer-wins" | "first-writer-wins" | "reject-equal-seq"

export interface MemoryDhtConfig {
  /** K: how many storing nodes hold each target. */
  readonly replication: number
  /** How many storing nodes exist; each target picks its K closest (XOR) from this pool. */
  readonly poolSize: number
  /** One rule for all nodes, or a list assigned round-robin by node index (a mixed network). */
  readonly rules: StorageRule | ReadonlyArray<StorageRule>
  /** Round-trip time of one request to one storing node. */
  readonly latency: Duration.DurationInput
  /** Uniform extra round-trip time in [0, jitter). */
  readonly latencyJitter: Duration.DurationInput
  /** Probability that one request (or its answer) is lost. */
  readonly loss: number
  /** How long a client waits for a lost or unanswered request before giving up on that node. */
  readonly requestTimeout: Duration.DurationInput
  /**
   * Answer times are rounded up to a multiple of this (ms). Under `TestClock` every distinct instant costs a
   * few milliseconds of real time; a coarser quantum makes long simulations faster.
   */
  readonly timeQuantum: number
  /** Seed for loss, jitter and node placement, so runs repeat exactly. */
  readonly seed: number
}

export const defaultMemoryDhtConfig: MemoryDhtConfig = {
  replication: 20,
  poolSize: 64,
  rules: "last-writer-wins",
  latency: Duration.zero,
  latencyJitter: Duration.zero,
  loss: 0,
  requestTimeout: Duration.seconds(2),
  timeQuantum: 1,
  seed: 1
}

export interface Counts {
  gets: number
  puts: number
}

/** What one storing node holds for one target. `valid` caches the signature check (injected junk may fail it). */
interface Stored {
  readonly item: MutableItem
  valid: boolean | undefined
}

interface StoringNode {
  readonly index: number
  readonly id: Uint8Array
  readonly rule: StorageRule
  up: boolean
  readonly store: Map<string, Stored>
}

const xorLess = (a: Uint8Array, b: Uint8Array, target: Uint8Array): number => {
  for (let i = 0; i < target.length; i++) {
    const da = a[i]! ^ target[i]!
    const db = b[i]! ^ target[i]!
    if (da !== db) return da - db
  }
  return 0
}

const bump = (map: Map<string, Counts>, key: string, field: keyof Counts): void => {
  const counts = map.get(key) ?? { gets: 0, puts: 0 }
  counts[field]++
  map.set(key, counts)
}

const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

/** Answers grouped by arrival time (ms after the request), earliest first. */
type Plan = ReadonlyArray<readonly [number, ReadonlyArray<{ readonly node: number; readonly answers: boolean }>]>

/** A storing node's answer to one put (BEP44 error codes). */
type PutAnswer = { readonly ok: true } | { readonly ok: false; readonly code: number; readonly message: string }

export class MemoryDhtNetwork {
  readonly config: MemoryDhtConfig
  /** @internal The storing nodes, in no particular order (the testkit's own tests look inside). */
  readonly nodes: ReadonlyArray<StoringNode>
  private readonly rng: Prng
  private readonly closest = new Map<string, ReadonlyArray<number>>()
  online = true
  loss: number
  latencyMillis: number
  jitterMillis: number
  /** Per client: the storing nodes it can reach; absent = all. */
  readonly reachable = new Map<string, ReadonlySet<number>>()
  readonly totals: Counts = { gets: 0, puts: 0 }
  readonly byTarget = new Map<string, Counts>()
  readonly byClient = new Map<string, Counts>()
  /** Requests that reached a storing node (what the DHT's nodes actually handle). */
  readonly nodeRequests: Counts = { gets: 0, puts: 0 }

  constructor(config: MemoryDhtConfig) {
    this.config = config
    this.rng = makePrng(config.seed)
    this.loss = config.loss
    this.latencyMillis = Duration.toMillis(config.latency)
    this.jitterMillis = Duration.toMillis(config.latencyJitter)
    const rules = typeof config.rules === "string" ? [config.rules] : config.rules
    if (rules.length === 0) throw new RangeError("MemoryDht needs at least one storage rule")
    if (config.replication < 1 || config.poolSize < config.replication) {
      throw new RangeError("MemoryDht needs 1 <= replication <= poolSize")
    }
    this.nodes = Array.from({ length: config.poolSize }, (_, index) => ({
      index,
      id: sha1(new TextEncoder().encode(`memory-dht-node:${config.seed}:${index}`)),
      rule: rules[index % rules.length]!,
      up: true,
      store: new Map()
    }))
  }

  /** The K storing nodes of a target: the pool nodes closest to it by XOR distance, nearest first. */
  storingNodes(target: Uint8Array): ReadonlyArray<number> {
    const key = Bytes.toHex(target)
    const cached = this.closest.get(key)
    if (cached !== undefined) return cached
    const picked = [...this.nodes]
      .sort((a, b) => xorLess(a.id, b.id, target))
      .slice(0, this.config.replication)
      .map((n) => n.index)
    this.closest.set(key, picked)
    return picked
  }

  /** Whether one request from `client` to `node` gets an answer (drawn now, so loss is per request). */
  private answers(client: string, node: number): boolean {
    const allowed = this.reachable.get(client)
    if (allowed !== undefined && !allowed.has(node)) return false
    if (!this.nodes[node]!.up) return false
    return !(this.loss > 0 && this.rng.next() < this.loss)
  }

  private quantize(millis: number): number {
    const q = this.config.timeQuantum
    return Math.ceil(millis / q) * q
  }

  /**
   * When each of `nodes` answers `client`: answers grouped by arrival time (ms from now), earliest first. Loss and
   * jitter are drawn here, once per request.
   */
  private plan(client: string, nodes: ReadonlyArray<number>): Plan {
    const groups = new Map<number, Array<{ readonly node: number; readonly answers: boolean }>>()
    for (const node of nodes) {
      const answers = this.answers(client, node)
      const after = answers
        ? this.quantize(this.latencyMillis + (this.jitterMillis > 0 ? this.rng.next() * this.jitterMillis : 0))
        : this.quantize(Duration.toMillis(this.config.requestTimeout))
      const group = groups.get(after) ?? []
      group.push({ node, answers })
      groups.set(after, group)
    }
    return [...groups.entries()].sort((a, b) => a[0] - b[0])
  }

  /**
   * Every answer of `plan` if all of them are due now (zero latency, nobody silent), else undefined. Then there is
   * no sleep to take, and skipping the stream stages makes a simulated request several times cheaper.
   */
  private immediately<A>(plan: Plan, handle: (node: number) => A): Array<Option.Option<A>> | undefined {
    if (plan.length !== 1 || plan[0]![0] !== 0) return undefined
    return plan[0]![1].map(({ answers, node }) =>
      answers && this.nodes[node]!.up ? Option.some(handle(node)) : Option.none<A>()
    )
  }

  /**
   * Ask several nodes at once. Answers come out in arrival order, grouped by arrival time, with one sleep per
   * distinct arrival time (under `TestClock` each wake-up is costly, so not one sleep per node). A node that
   * does not answer yields `None` after the request timeout, as a UDP client gives up on it.
   */
  private exchange<A>(plan: Plan, handle: (node: number) => A): Stream.Stream<Option.Option<A>> {
    return Stream.fromIterable(plan).pipe(
      Stream.mapAccumEffect(0, (elapsed, [after, group]) =>
        Effect.zipRight(
          after > elapsed ? Effect.sleep(Duration.millis(after - elapsed)) : Effect.void,
          Effect.sync(() =>
            [
              Math.max(after, elapsed),
              group.map(({ answers, node }) =>
                answers && this.nodes[node]!.up ? Option.some(handle(node)) : Option.none<A>()
              )
            ] as const
          )
        )),
      Stream.mapConcat((answers) => answers)
    )
  }

  private count(client: string, targetKey: string, field: keyof Counts): void {
    this.totals[field]++
    bump(this.byTarget, targetKey, field)
    bump(this.byClient, client, field)
  }

  lookup(client: string, publicKey: Uint8Array, salt: Uint8Array): Stream.Stream<MutableItem, Dht.DhtError> {
    return Stream.suspend(() => {
      if (!this.online) return Stream.fail(new Dht.DhtUnavailable({ reason: "memory DHT is offline" }))
      const target = Bep44.target(publicKey, salt)
      const key = Bytes.toHex(target)
      this.count(client, key, "gets")
      let answered = 0
      const handle = (node: number) => {
        answered++
        this.nodeRequests.gets++
        const stored = this.nodes[node]!.store.get(key)
        return stored !== undefined && this.isValid(stored, publicKey, salt) ? stored.item : undefined
      }
      const plan = this.plan(client, this.storingNodes(target))
      const now = this.immediately(plan, handle)
      if (now !== undefined) {
        const items = now.flatMap((
          answer
        ) => (Option.isSome(answer) && answer.value !== undefined ? [answer.value] : []))
        return answered === 0
          ? Stream.fail(new Dht.DhtUnavailable({ reason: "no storing node answered the lookup" }))
          : Stream.fromIterable(items)
      }
      return this.exchange(plan, handle).pipe(
        Stream.filterMap((answer) => Option.flatMap(answer, Option.fromNullable)),
        Stream.concat(
          Stream.suspend(() =>
            answered === 0
              ? Stream.fail(new Dht.DhtUnavailable({ reason: "no storing node answered the lookup" }))
              : Stream.empty
          )
        )
      )
    })
  }

  /** Target and signature must verify before a lookup may return an item (the `DhtTransport` contract). */
  private isValid(stored: Stored, publicKey: Uint8Array, salt: Uint8Array): boolean {
    const item = stored.item
    if (!Bytes.equal(item.publicKey, publicKey) || !Bytes.equal(item.salt, salt)) return false
    if (stored.valid === undefined) stored.valid = signatureValid(item)
    return stored.valid
  }

  store(
    client: string,
    item: MutableItem,
    cas: bigint | undefined
  ): Effect.Effect<{ readonly storedAt: number }, Dht.DhtError> {
    return Effect.suspend(() => {
      if (!this.online) return Effect.fail(new Dht.DhtUnavailable({ reason: "memory DHT is offline" }))
      const target = Bep44.target(item.publicKey, item.salt)
      const key = Bytes.toHex(target)
      this.count(client, key, "puts")
      // The signature is the same for every node: check it once per put, not K times.
      let signatureOk: boolean | undefined
      const checkSignature = () => (signatureOk ??= signatureValid(item))
      const handle = (node: number) => {
        this.nodeRequests.puts++
        return this.applyPut(this.nodes[node]!, key, item, cas, checkSignature)
      }
      const plan = this.plan(client, this.storingNodes(target))
      const now = this.immediately(plan, handle)
      if (now !== undefined) return putOutcome(now)
      return this.exchange(plan, handle).pipe(
        Stream.runCollect,
        Effect.flatMap((answers) => putOutcome(Array.from(answers)))
      )
    })
  }

  private applyPut(
    node: StoringNode,
    key: string,
    item: MutableItem,
    cas: bigint | undefined,
    checkSignature: () => boolean
  ): PutAnswer {
    const valueLimitExceeded = node.rule === "first-writer-wins"
      ? bencodedLength(item.value) > Bep44.MAX_VALUE_BYTES // libtorrent measures the bencoded `v`
      : item.value.length > Bep44.MAX_VALUE_BYTES
    if (valueLimitExceeded) return { ok: false, code: 205, message: "message (v field) too big" }
    if (item.salt.length > Bep44.MAX_SALT_BYTES) return { ok: false, code: 207, message: "salt (salt field) too big" }
    if (item.seq < I64_MIN || item.seq > I64_MAX) return { ok: false, code: 203, message: "seq is not an i64" }
    if (!checkSignature()) return { ok: false, code: 206, message: "invalid signature" }
    const held = node.store.get(key)
    if (held !== undefined) {
      if (cas !== undefined && cas !== held.item.seq) return { ok: false, code: 301, message: "CAS mismatched" }
      if (item.seq < held.item.seq) return { ok: false, code: 302, message: "sequence number less than current" }
      if (item.seq === held.item.seq) {
        if (node.rule === "reject-equal-seq") {
          return { ok: false, code: 302, message: "sequence number less than current" }
        }
        if (node.rule === "first-writer-wins") return { ok: true }
      }
    }
    node.store.set(key, { item: copyItem(item), valid: true })
    return { ok: true }
  }

  /** Store an item on storing nodes without any check: hostile or malformed content for tests. */
  inject(item: MutableItem, nodes: ReadonlyArray<number> | undefined): void {
    const target = Bep44.target(item.publicKey, item.salt)
    const key = Bytes.toHex(target)
    for (const node of nodes ?? this.storingNodes(target)) {
      const storing = this.nodes[node]
      if (storing === undefined) throw new RangeError(`no storing node ${node}`)
      storing.store.set(key, { item: copyItem(item), valid: undefined })
    }
  }

  heldValues(
    publicKey: Uint8Array,
    salt: Uint8Array
  ): ReadonlyArray<{ readonly node: number; readonly item: MutableItem }> {
    const target = Bep44.target(publicKey, salt)
    const key = Bytes.toHex(target)
    return this.storingNodes(target).flatMap((node) => {
      const stored = this.nodes[node]!.store.get(key)
      return stored === undefined ? [] : [{ node, item: stored.item }]
    })
  }

  resetCounters(): void {
    this.totals.gets = this.totals.puts = 0
    this.nodeRequests.gets = this.nodeRequests.puts = 0
    this.byTarget.clear()
    this.byClient.clear()
  }
}

const signatureValid = (item: MutableItem): boolean =>
  verifyStrict(item.publicKey, Bep44.signable(item.salt, item.seq, item.value), item.signature)

const bencodedLength = (value: Uint8Array): number => String(value.length).length + 1 + value.length

const copyItem = (item: MutableItem): MutableItem => ({
  publicKey: Uint8Array.from(item.publicKey),
  salt: Uint8Array.from(item.salt),
  seq: item.seq,
  value: Uint8Array.from(item.value),
  signature: Uint8Array.from(item.signature)
})

/** Codes after which the same item can never be stored anywhere: not worth a retry. */
const INVALID_ITEM_CODES = new Set([203, 205, 206, 207])

/**
 * Success when at least one node acknowledged (as mainline counts `stored_at`). Otherwise the most common
 * error code decides; no answer at all means the DHT was unreachable.
 */
const putOutcome = (
  answers: ReadonlyArray<Option.Option<PutAnswer>>
): Effect.Effect<{ readonly storedAt: number }, Dht.DhtError> => {
  let storedAt = 0
  const errors = new Map<number, { count: number; message: string }>()
  for (const answer of answers) {
    if (Option.isNone(answer)) continue
    const a = answer.value
    if (a.ok) storedAt++
    else {
      const seen = errors.get(a.code)
      errors.set(a.code, { count: (seen?.count ?? 0) + 1, message: a.message })
    }
  }
  if (storedAt > 0) return Effect.succeed({ storedAt })
  if (errors.size === 0) return Effect.fail(new Dht.DhtUnavailable({ reason: "no storing node answered the put" }))
  const [code, { message }] = [...errors.entries()].sort((a, b) => b[1].count - a[1].count)[0]!
  return INVALID_ITEM_CODES.has(code)
    ? Effect.fail(new Dht.DhtInvalidItem({ reason: `${code} ${message}` }))
    : Effect.fail(new Dht.DhtPutRejected({ reason: message, code }))
}
