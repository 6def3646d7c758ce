/**
 * A private mainline DHT on loopback: N storing nodes on 127.0.0.1, bootstrapped from one another, each with
 * its own storage rule. Clients join it through `bootstrap` (or `clientLayer`). Everything closes with the
 * scope the Testbed was made in.
 *
 * It can also play a bad network: per-node latency, jitter and loss (`impairment`) and a share of nodes that
 * never answer (`silentShare`), drawn from `seed` so a run can be repeated.
 */
import { Bep44, Crypto, Dht } from "@dtt/core"
import { Context, Duration, Effect, Layer, Random, type Scope } from "effect"
import * as Bencode from "./Bencode.js"
import * as DhtMainline from "./DhtMainline.js"
import type { Impairment } from "./Impairment.js"
import { addressKey, compareDistance } from "./internal/address.js"
import * as Item from "./internal/item.js"
import { K } from "./internal/routingTable.js"
import * as Rpc from "./internal/rpc.js"
import * as Krpc from "./Krpc.js"

export interface TestbedOptions {
  /** Number of storing nodes. */
  readonly size: number
  /** One rule for all, or a rule per node index. Default "last-writer-wins". */
  readonly rule?: DhtMainline.StoreRule | ((index: number) => DhtMainline.StoreRule)
  /** Self-lookup rounds after start (each node once per round). Default 2, enough for a well-connected net. */
  readonly bootstrapRounds?: number
  /**
   * UDP port of node i (0 or missing: a free one). A Testbed restarted with the ports of the one before is
   * where that one's clients look for it again (the bootstrap list is its first nodes).
   */
  readonly ports?: ReadonlyArray<number>
  /** Per-node overrides (request timeout, max items, ...); host, port, storing and bootstrap are set here. */
  readonly node?: Omit<
    DhtMainline.Options,
    "host" | "port" | "storing" | "bootstrap" | "bootstrapOnStart" | "impairment"
  >
  /** Address every node binds to. Default "127.0.0.1". */
  readonly host?: string
  /** Latency, jitter and loss on the storing nodes' sockets: one for all, or per node index. Default none. */
  readonly impairment?: Impairment | ((index: number) => Impairment | undefined)
  /**
   * Share (0..1) of storing nodes that never answer a query. They are drawn with `seed` among all but the
   * first node (which everyone bootstraps from) and never listed in `bootstrap`. Default 0.
   */
  readonly silentShare?: number
  /** Seed of the silent draw and of each node's loss and jitter draws. Default 0. */
  readonly seed?: number
}

export interface Testbed {
  /** "127.0.0.1:port" of a few nodes: hand it to clients as `bootstrap`. */
  readonly bootstrap: ReadonlyArray<string>
  readonly nodes: ReadonlyArray<DhtMainline.MainlineNode>
  readonly rules: ReadonlyArray<DhtMainline.StoreRule>
  /** Indices of the nodes that never answer (see `silentShare`), ascending. */
  readonly silent: ReadonlyArray<number>
  /** What each storing node currently holds for the item's slot (one entry per node that holds something). */
  readonly storedItems: (publicKey: Uint8Array, salt: Uint8Array) => ReadonlyArray<Dht.MutableItem>
  /** Options for a client on this testbed (loopback bind, its bootstrap), merged with `extra`. */
  readonly clientOptions: (extra?: DhtMainline.Options) => DhtMainline.Options
  /**
   * A read-only client `Dht` layer on this testbed, with the Testbed's `Crypto` already provided.
   * `config` is the `Dht.make` policy (retries, timeouts, maxGetValues).
   */
  readonly clientLayer: (
    config?: Partial<Dht.DhtConfig>,
    extra?: DhtMainline.Options
  ) => Layer.Layer<Dht.Dht, Dht.DhtUnavailable>
  /** Put one item to one node directly (its own get for a token, then put), bypassing the lookup. */
  readonly putTo: (nodeIndex: number, item: Dht.MutableItem, cas?: bigint) => Effect.Effect<void, Dht.DhtError>
  /**
   * Spread the items over the K nodes closest to their target so that each node holds exactly one of them
   * (node of rank j gets item j mod n): how several writers' values for one slot exist on a real network.
   */
  readonly storeOnDistinctNodes: (items: ReadonlyArray<Dht.MutableItem>) => Effect.Effect<void, Dht.DhtError>
}

export class TestbedTag extends Context.Tag("@dtt/dht-mainline/Testbed")<TestbedTag, Testbed>() {}

const BOOTSTRAP_ENTRIES = 4

/** round(share × size) indices out of 1..size-1, drawn with `seed`. */
const silentIndices = (size: number, share: number, seed: number): Effect.Effect<ReadonlyArray<number>> => {
  const count = Math.min(Math.max(0, size - 1), Math.round(Math.min(1, Math.max(0, share)) * size))
  if (count === 0) return Effect.succeed([])
  const candidates = Array.from({ length: size - 1 }, (_, i) => i + 1)
  return Random.shuffle(candidates).pipe(
    Effect.map((shuffled) => [...shuffled].slice(0, count).sort((a, b) => a - b)),
    Effect.withRandom(Random.make(seed))
  )
}

export const make = (
  options: TestbedOptions
): Effect.Effect<Testbed, Dht.DhtUnavailable, Scope.Scope | Crypto.Crypto> =>
  Effect.gen(function*() {
    const crypto = yield* Crypto.Crypto
    const ruleOf = (i: number): DhtMainline.StoreRule =>
      typeof options.rule === "function" ? options.rule(i) : (options.rule ?? "last-writer-wins")
    const host = options.host ?? "127.0.0.1"
    const seed = options.seed ?? 0
    const silent = yield* silentIndices(options.size, options.silentShare ?? 0, seed)
    const impairmentOf = (i: number): Impairment | undefined => {
      const given = typeof options.impairment === "function" ? options.impairment(i) : options.impairment
      if (given === undefined && !silent.includes(i)) return undefined
      // Each node draws from its own seeded stream, so adding a node does not change the others' draws.
      return { seed: seed * 1_000_003 + i, ...given, silent: given?.silent === true || silent.includes(i) }
    }
    const nodes: Array<DhtMainline.MainlineNode> = []
    const rules: Array<DhtMainline.StoreRule> = []
    for (let i = 0; i < options.size; i++) {
      rules.push(ruleOf(i))
      nodes.push(
        yield* DhtMainline.makeNode({
          ...options.node,
          host,
          port: options.ports?.[i] ?? 0,
          storing: { rule: rules[i]! },
          // Every node starts from the first one; the first learns the others as they query it.
          bootstrap: i === 0 ? [] : [addressKey(nodes[0]!.address)],
          impairment: impairmentOf(i)
        })
      )
    }
    for (let round = 0; round < (options.bootstrapRounds ?? 2); round++) {
      yield* Effect.forEach(nodes, (n) => n.bootstrap, { concurrency: 4, discard: true })
    }
    const bootstrap = nodes
      .filter((_, i) => !silent.includes(i))
      .slice(0, BOOTSTRAP_ENTRIES)
      .map((n) => addressKey(n.address))
    const clientOptions = (extra: DhtMainline.Options = {}): DhtMainline.Options => ({
      ...extra,
      host,
      bootstrap
    })

    // One bare read-only endpoint for the direct writes of `putTo`.
    const direct = yield* Rpc.make({
      host,
      port: 0,
      readOnly: true,
      requestTimeout: Duration.seconds(2),
      maxInFlight: 64,
      inboxCapacity: 256,
      onQuery: () => undefined
    })
    const directId = yield* crypto.randomBytes(20)
    const failure = (node: number, e: Rpc.RpcFailure): Dht.DhtError =>
      e._tag === "Timeout"
        ? new Dht.DhtUnavailable({ reason: `testbed node ${node} did not answer` })
        : new Dht.DhtPutRejected({ reason: `testbed node ${node}: ${e.message}`, code: e.code })

    const putTo = (index: number, item: Dht.MutableItem, cas?: bigint) =>
      Effect.gen(function*() {
        const node = nodes[index]
        if (node === undefined) return yield* new Dht.DhtUnavailable({ reason: `no testbed node ${index}` })
        const target = Bep44.target(item.publicKey, item.salt)
        const reply = yield* direct.request(node.address, "get", Bencode.dict({ id: directId, target }))
        yield* direct.request(
          node.address,
          "put",
          Bencode.dict({
            id: directId,
            target,
            token: Krpc.bytes(reply, "token"),
            ...Item.putFields(item, cas)
          })
        )
      }).pipe(Effect.mapError((e) => (e._tag === "Timeout" || e._tag === "Remote" ? failure(index, e) : e)))

    const storeOnDistinctNodes = (items: ReadonlyArray<Dht.MutableItem>) =>
      Effect.forEach(
        items.length === 0 ? [] : nodesClosestTo(Bep44.target(items[0]!.publicKey, items[0]!.salt)),
        (nodeIndex, rank) => putTo(nodeIndex, items[rank % items.length]!),
        { concurrency: 8, discard: true }
      )

    const nodesClosestTo = (target: Uint8Array): ReadonlyArray<number> =>
      nodes
        .map((n, i) => ({ id: n.id, i }))
        .sort((a, b) => compareDistance(target, a.id, b.id))
        .slice(0, K)
        .map(({ i }) => i)

    return {
      bootstrap,
      nodes,
      rules,
      silent,
      storedItems: (publicKey, salt) => {
        const target = Bep44.target(publicKey, salt)
        return nodes.flatMap((n) => n.stored(target) ?? [])
      },
      clientOptions,
      clientLayer: (config = {}, extra = {}) =>
        DhtMainline.layer(clientOptions({ ...extra, dht: { ...extra.dht, ...config } })).pipe(
          Layer.provide(Layer.succeed(Crypto.Crypto, crypto))
        ),
      putTo,
      storeOnDistinctNodes
    }
  })

export const layer = (options: TestbedOptions): Layer.Layer<TestbedTag, Dht.DhtUnavailable, Crypto.Crypto> =>
  Layer.scoped(TestbedTag, make(options))
