/**
 * The compliance suite every `Dht` implementation runs (memory, mainline over loopback, ...).
 *
 * Usage, in a vitest file of the implementation's package:
 *
 *     dhtCompliance("mainline over loopback", ({ clients, dhtConfig }) =>
 *       Effect.gen(function* () {
 *         const testbed = yield* Testbed.make({ nodes: 30 })            // lives for the test's scope
 *         return { clients: Array.from({ length: clients }, () => testbed.clientLayer(dhtConfig)) }
 *       }))
 *
 * `makeHarness` is called once per test, inside that test's scope: start whatever the network needs there and
 * return `clients` Dht layers that share ONE network (a put by one is visible to a get by another). Build each
 * service with `Dht.make(transport, dhtConfig)` using the `dhtConfig` the suite passes in (it keeps retries and
 * timeouts short, and varies `maxGetValues`).
 *
 * `storeOnDistinctNodes` is optional. When given, it must leave item i on storing node(s) that hold none of
 * the other items, bypassing the normal put path: that is how several writers' values for one target exist on
 * the real network (each storing node holds one value). Without it, the tests that need several values at
 * one target check a weaker property.
 *
 * The suite runs on the real clock (`it.scopedLive`), never on `TestClock`, so it works over real sockets.
 */
import { Bep44, Bytes, Dht } from "@dtt/core"
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import { vitest } from "./internal/vitest.js"
import { seedOf, signedItem } from "./TestItems.js"

export interface DhtComplianceHarness {
  readonly clients: ReadonlyArray<Layer.Layer<Dht.Dht>>
  readonly storeOnDistinctNodes?: (items: ReadonlyArray<Dht.MutableItem>) => Effect.Effect<void, unknown>
}

export type MakeDhtHarness = (options: {
  readonly clients: number
  readonly dhtConfig: Dht.DhtConfig
}) => Effect.Effect<DhtComplianceHarness, unknown, Scope.Scope>

export interface DhtComplianceOptions {
  /** Per-test limit in milliseconds (default 30 000). */
  readonly timeout?: number
}

/** Short retries and timeouts: a compliant implementation answers on loopback well within these. */
export const complianceDhtConfig: Dht.DhtConfig = {
  retries: 1,
  baseRetryInterval: Duration.millis(100),
  maxRetryJitter: Duration.zero,
  putTimeout: Duration.seconds(5),
  getTimeout: Duration.seconds(5),
  maxGetValues: 64
}

const text = (s: string) => new TextEncoder().encode(s)

/**
 * Every test writes under its own key (suite name + label + counter), so a harness that shares one network
 * across tests or suites still sees fresh targets.
 */
let keyCounter = 0
const saltOf = (label: string) => new Uint8Array(32).map((_, i) => (label.charCodeAt(i % label.length) + i) & 0xff)

const services = (harness: DhtComplianceHarness) =>
  Effect.forEach(harness.clients, (client) => Effect.map(Layer.build(client), (ctx) => Context.get(ctx, Dht.Dht)))

const setup = (makeHarness: MakeDhtHarness, clients: number, dhtConfig: Dht.DhtConfig = complianceDhtConfig) =>
  Effect.gen(function*() {
    const harness = yield* makeHarness({ clients, dhtConfig })
    if (harness.clients.length < clients) {
      return yield* Effect.dieMessage(`harness returned ${harness.clients.length} clients, ${clients} requested`)
    }
    return { harness, dhts: yield* services(harness) }
  })

const sameItem = (a: Dht.MutableItem, b: Dht.MutableItem) =>
  Bytes.equal(a.publicKey, b.publicKey) &&
  Bytes.equal(a.salt, b.salt) &&
  a.seq === b.seq &&
  Bytes.equal(a.value, b.value) &&
  Bytes.equal(a.signature, b.signature)

export const dhtCompliance = (name: string, makeHarness: MakeDhtHarness, options: DhtComplianceOptions = {}): void => {
  const { describe, expect, it } = vitest()
  const timeout = options.timeout ?? 30_000
  const freshKey = (label: string) => seedOf(`dht-compliance:${name}:${label}:${keyCounter++}`)
  describe(`Dht compliance: ${name}`, () => {
    it.scopedLive(
      "put then get from another client returns the item, bytes and seq (i64::MAX) exact",
      () =>
        Effect.gen(function*() {
          const { dhts } = yield* setup(makeHarness, 2)
          const salt = saltOf("exact")
          // every byte value, so no encoding layer may mangle anything
          const value = Uint8Array.from({ length: 600 }, (_, i) => (i * 7 + 3) & 0xff)
          const item = signedItem({ secretKey: freshKey("exact"), salt, value })
          expect(item.seq).toBe(Bep44.SEQ_I64_MAX)
          const receipt = yield* dhts[0]!.putMutable(item, { cas: Bep44.SEQ_I64_MAX })
          expect(receipt.storedAt).toBeGreaterThanOrEqual(1)
          expect(receipt.attempts).toBeGreaterThanOrEqual(1)
          const got = yield* dhts[1]!.getMutable(item.publicKey, salt)
          expect(got).toHaveLength(1)
          expect(sameItem(got[0]!, item)).toBe(true)
          expect(got[0]!.seq).toBe(9223372036854775807n)
          // the writer reads it back too
          const own = yield* dhts[0]!.getMutable(item.publicKey, salt)
          expect(own.some((i) => sameItem(i, item))).toBe(true)
        }),
      timeout
    )

    it.scopedLive(
      "a small seq and a one-byte salt round-trip as well",
      () =>
        Effect.gen(function*() {
          const { dhts } = yield* setup(makeHarness, 2)
          const salt = new Uint8Array([1])
          const item = signedItem({ secretKey: freshKey("small"), salt, value: text("small seq"), seq: 1n })
          yield* dhts[0]!.putMutable(item)
          const got = yield* dhts[1]!.getMutable(item.publicKey, salt)
          expect(got.map((i) => i.seq)).toEqual([1n])
          expect(sameItem(got[0]!, item)).toBe(true)
        }),
      timeout
    )

    it.scopedLive(
      "several writers' values at one target are all collected",
      () =>
        Effect.gen(function*() {
          const { harness, dhts } = yield* setup(makeHarness, 4)
          const key = freshKey("writers")
          const salt = saltOf("writers")
          const items = ["writer one", "writer two", "writer three"].map((v) =>
            signedItem({ secretKey: key, salt, value: text(v) })
          )
          if (harness.storeOnDistinctNodes !== undefined) {
            yield* harness.storeOnDistinctNodes(items)
            const got = yield* dhts[3]!.getMutable(items[0]!.publicKey, salt)
            expect(got.map((i) => Bytes.toHex(i.value)).sort()).toEqual(items.map((i) => Bytes.toHex(i.value)).sort())
          } else {
            // Storing nodes keep one value each; which one depends on their rule and on timing.
            yield* Effect.forEach(items, (item, i) => dhts[i]!.putMutable(item, { cas: Bep44.SEQ_I64_MAX }), {
              concurrency: "unbounded"
            })
            const got = yield* dhts[3]!.getMutable(items[0]!.publicKey, salt)
            expect(got.length).toBeGreaterThanOrEqual(1)
            expect(new Set(got.map((i) => Bytes.toHex(i.value))).size).toBe(got.length)
            for (const g of got) expect(items.some((i) => sameItem(i, g))).toBe(true)
          }
        }),
      timeout
    )

    it.scopedLive(
      "a bad signature is rejected and never returned",
      () =>
        Effect.gen(function*() {
          const { dhts } = yield* setup(makeHarness, 2)
          const salt = saltOf("forged")
          const good = signedItem({ secretKey: freshKey("forged"), salt, value: text("forged") })
          const forged = { ...good, value: text("FORGED") } // signature no longer covers the value
          const error = yield* Effect.flip(dhts[0]!.putMutable(forged))
          expect(["DhtInvalidItem", "DhtPutRejected"]).toContain(error._tag)
          expect(yield* dhts[1]!.getMutable(good.publicKey, salt)).toEqual([])
        }),
      timeout
    )

    it.scopedLive(
      "a value over 1000 bytes is an invalid item",
      () =>
        Effect.gen(function*() {
          const { dhts } = yield* setup(makeHarness, 1)
          const item = signedItem({
            secretKey: freshKey("big"),
            salt: saltOf("big"),
            value: new Uint8Array(1001).fill(0x61)
          })
          const error = yield* Effect.flip(dhts[0]!.putMutable(item))
          expect(error._tag).toBe("DhtInvalidItem")
        }),
      timeout
    )

    it.scopedLive(
      "a salt over 64 bytes is an invalid item",
      () =>
        Effect.gen(function*() {
          const { dhts } = yield* setup(makeHarness, 1)
          const item = signedItem({ secretKey: freshKey("salt"), salt: new Uint8Array(65).fill(1), value: text("v") })
          expect((yield* Effect.flip(dhts[0]!.putMutable(item)))._tag).toBe("DhtInvalidItem")
        }),
      timeout
    )

    it.scopedLive(
      "a get of a target nobody wrote returns []",
      () =>
        Effect.gen(function*() {
          const { dhts } = yield* setup(makeHarness, 1)
          const key = signedItem({ secretKey: freshKey("empty"), salt: new Uint8Array(0), value: new Uint8Array(0) })
          expect(yield* dhts[0]!.getMutable(key.publicKey, saltOf("empty"))).toEqual([])
        }),
      timeout
    )

    it.scopedLive(
      "maxGetValues bounds the values one get returns",
      () =>
        Effect.gen(function*() {
          const { harness, dhts } = yield* setup(makeHarness, 2, { ...complianceDhtConfig, maxGetValues: 2 })
          const key = freshKey("bound")
          const salt = saltOf("bound")
          const items = ["b1", "b2", "b3", "b4"].map((v) => signedItem({ secretKey: key, salt, value: text(v) }))
          if (harness.storeOnDistinctNodes !== undefined) {
            yield* harness.storeOnDistinctNodes(items)
            const got = yield* dhts[1]!.getMutable(items[0]!.publicKey, salt)
            expect(got).toHaveLength(2)
            for (const g of got) expect(items.some((i) => sameItem(i, g))).toBe(true)
          } else {
            yield* Effect.forEach(items, (item) => dhts[0]!.putMutable(item), { discard: true })
            const got = yield* dhts[1]!.getMutable(items[0]!.publicKey, salt)
            expect(got.length).toBeGreaterThanOrEqual(1)
            expect(got.length).toBeLessThanOrEqual(2)
          }
        }),
      timeout
    )
  })
}
