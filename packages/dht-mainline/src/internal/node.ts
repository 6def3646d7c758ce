/**
 * One mainline DHT node: the KRPC endpoint, its routing table, optionally the storing-node server, and the
 * `DhtTransport` (BEP44 lookup and store) the `Dht` service is built on. Everything lives in the caller's
 * scope: closing it closes the socket and interrupts the processing fiber, lookups and the token rotation.
 */
import { Bep44, Crypto, Dht } from "@dtt/core"
import { Clock, Duration, Effect, Either, Schedule, type Scope, Stream } from "effect"
import { lookup as dnsLookup } from "node:dns/promises"
import { isIPv4 } from "node:net"
import * as Bencode from "../Bencode.js"
import type { Impairment } from "../Impairment.js"
import * as Krpc from "../Krpc.js"
import { type Address, ID_BYTES, parseAddress } from "./address.js"
import * as Item from "./item.js"
import { lookup, type LookupContext, type Responder } from "./lookup.js"
import { settleWithPatience } from "./patience.js"
import * as RoutingTable from "./routingTable.js"
import * as Rpc from "./rpc.js"
import * as Server from "./server.js"
import * as WriteTargets from "./writeTargets.js"

export interface NodeOptions {
  readonly bootstrap: ReadonlyArray<string>
  readonly host: string
  readonly port: number
  readonly storing: { readonly rule: Server.StoreRule; readonly maxItems: number } | undefined
  readonly requestTimeout: Duration.Duration
  readonly softTimeoutFloor: Duration.Duration
  readonly alpha: number
  readonly maxInFlight: number
  readonly nodeId: Uint8Array | undefined
  readonly verifyStrict: Item.VerifyStrict | undefined
  readonly tokenRotation: Duration.Duration
  readonly impairment?: Impairment
}

export interface NodeStats extends Rpc.RpcStats {
  /** Items seen in `get` replies that failed the target or signature check and were dropped. */
  rejectedItems: number
}

export interface Node {
  readonly id: Uint8Array
  readonly address: Address
  readonly transport: Dht.DhtTransport
  /** A `find_node` lookup of our own id: fills the routing table. Returns how many nodes it then holds. */
  readonly bootstrap: Effect.Effect<number>
  readonly routingTableSize: () => number
  /** The item this node stores for a target, when it is a storing node. */
  readonly stored: (target: Uint8Array) => Dht.MutableItem | undefined
  readonly storedCount: () => number
  readonly stats: NodeStats
}

const TOKEN_SECRET_BYTES = 20
const MAX_CANDIDATES = 256

/** IPv4 literals pass as they are; names are resolved (IPv4 only, the DHT's compact format has no IPv6). */
const resolveSeeds = (entries: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Address>> =>
  Effect.forEach(
    entries,
    (entry) => {
      const parsed = parseAddress(entry)
      if (parsed === undefined) return Effect.succeed([])
      if (isIPv4(parsed.host)) return Effect.succeed([parsed])
      return Effect.tryPromise(() => dnsLookup(parsed.host, { family: 4 })).pipe(
        Effect.timeout(Duration.seconds(2)),
        Effect.map(({ address }) => [{ host: address, port: parsed.port }]),
        Effect.orElseSucceed(() => [])
      )
    },
    { concurrency: "unbounded" }
  ).pipe(Effect.map((lists) => lists.flat()))

export const make = (options: NodeOptions): Effect.Effect<Node, Dht.DhtUnavailable, Scope.Scope | Crypto.Crypto> =>
  Effect.gen(function*() {
    const crypto = yield* Crypto.Crypto
    const verify = options.verifyStrict ?? crypto.verifyStrict
    const checkItem = Item.checker(verify)
    const id = options.nodeId ?? (yield* crypto.randomBytes(ID_BYTES))
    if (id.length !== ID_BYTES) return yield* new Dht.DhtUnavailable({ reason: "node id must be 20 bytes" })

    // The routing table needs our bound address, the server needs the table, the socket needs the server:
    // tie the knot through this holder.
    let answer: ((query: Parameters<Rpc.RpcOptions["onQuery"]>[0], from: Address) => Rpc.Reply | undefined) | undefined
    const rpc = yield* Rpc.make({
      host: options.host,
      port: options.port,
      readOnly: options.storing === undefined,
      requestTimeout: options.requestTimeout,
      softTimeoutFloor: options.softTimeoutFloor,
      maxInFlight: options.maxInFlight,
      inboxCapacity: 4096,
      onQuery: (query, from) => answer?.(query, from),
      impairment: options.impairment
    })
    const table = RoutingTable.make(id, rpc.local)
    const server = options.storing === undefined
      ? undefined
      : Server.make({
        localId: id,
        table,
        rule: options.storing.rule,
        maxItems: options.storing.maxItems,
        k: RoutingTable.K,
        verify,
        secret: yield* crypto.randomBytes(TOKEN_SECRET_BYTES)
      })
    if (server !== undefined) {
      answer = (query, from) => {
        const requester = query.args.get("id")
        // Nodes that query us and serve queries themselves are worth knowing; read-only clients are not.
        if (!query.readOnly && requester instanceof Uint8Array && requester.length === ID_BYTES) {
          table.add({ id: requester, host: from.host, port: from.port })
        }
        return server.handle(query, from)
      }
      yield* crypto.randomBytes(TOKEN_SECRET_BYTES).pipe(
        Effect.map(server.rotateSecret),
        Effect.delay(options.tokenRotation),
        Effect.forever,
        Effect.forkScoped
      )
    }

    // Resolved bootstrap addresses are cached once something resolved; names that failed are retried later.
    let resolved: ReadonlyArray<Address> = []
    const seeds = Effect.suspend(() =>
      resolved.length > 0
        ? Effect.succeed(resolved)
        : Effect.tap(resolveSeeds(options.bootstrap), (list) => Effect.sync(() => (resolved = list)))
    )
    const ctx: LookupContext = {
      rpc,
      table,
      localId: id,
      seeds,
      alpha: options.alpha,
      k: RoutingTable.K,
      maxCandidates: MAX_CANDIDATES
    }
    const stats: NodeStats = Object.assign(rpc.stats, { rejectedItems: 0 })
    const writeTargets = WriteTargets.make()

    const validate = (publicKey: Uint8Array, salt: Uint8Array): Dht.DhtInvalidItem | undefined =>
      publicKey.length !== Item.PUBLIC_KEY_BYTES
        ? new Dht.DhtInvalidItem({ reason: `public key must be 32 bytes, got ${publicKey.length}` })
        : salt.length > Bep44.MAX_SALT_BYTES
        ? new Dht.DhtInvalidItem({ reason: `salt is ${salt.length} bytes, at most ${Bep44.MAX_SALT_BYTES}` })
        : undefined

    const nobodyAnswered = new Dht.DhtUnavailable({ reason: "no DHT node answered (check the bootstrap nodes)" })

    const lookupItems = (publicKey: Uint8Array, salt: Uint8Array): Stream.Stream<Dht.MutableItem, Dht.DhtError> =>
      Stream.suspend(() => {
        const invalid = validate(publicKey, salt)
        if (invalid !== undefined) return Stream.fail(invalid)
        const target = Bep44.target(publicKey, salt)
        return Stream.asyncScoped<Dht.MutableItem, Dht.DhtError>((emit) =>
          lookup(ctx, target, "get", (_from, body) => {
            const item = Item.fromGetReply(body, salt)
            if (item === undefined) return Effect.void
            if (checkItem(item, target) !== undefined) {
              stats.rejectedItems++
              return Effect.void
            }
            return Effect.promise(() => emit.single(item))
          }).pipe(
            Effect.tap((responders) =>
              Effect.map(Clock.currentTimeMillis, (now) => writeTargets.remember(target, responders, now))
            ),
            Effect.flatMap((responders) =>
              Effect.promise(() => (responders.length === 0 ? emit.fail(nobodyAnswered) : emit.end()))
            ),
            Effect.forkScoped
          )
        )
      })

    /** Puts `item` to every node of `writable`: how many stored it, or why none did. */
    const putTo = (
      writable: ReadonlyArray<Responder>,
      item: Dht.MutableItem,
      target: Uint8Array,
      cas: bigint | undefined
    ): Effect.Effect<Either.Either<{ readonly storedAt: number }, Dht.DhtUnavailable | Dht.DhtPutRejected>> =>
      Effect.map(
        settleWithPatience(
          rpc,
          writable.map((node) =>
            rpc.request(
              node,
              "put",
              Bencode.dict({
                id,
                // Not in BEP44, but Rust mainline 7 refuses a put without it (its message type requires it).
                target,
                token: node.token,
                ...Item.putFields(item, cas)
              })
            )
          )
        ),
        (settled) => {
          const results = settled.filter((r) => r !== undefined)
          const storedAt = results.filter((r) => r._tag === "Right").length
          if (storedAt > 0) return Either.right({ storedAt })
          const codes = new Map<number, number>()
          for (const r of results) {
            if (r._tag === "Left" && r.left._tag === "Remote") {
              codes.set(r.left.code, (codes.get(r.left.code) ?? 0) + 1)
            }
          }
          if (codes.size === 0) {
            return Either.left(
              new Dht.DhtUnavailable({ reason: `none of ${writable.length} storing nodes answered the put` })
            )
          }
          const [code, count] = [...codes.entries()].sort((a, b) => b[1] - a[1])[0]!
          return Either.left(
            new Dht.DhtPutRejected({
              code,
              reason: `${count} of ${writable.length} storing nodes refused the put with error ${code}`
            })
          )
        }
      )

    const store = (item: Dht.MutableItem, cas: bigint | undefined) =>
      Effect.gen(function*() {
        const invalid = validate(item.publicKey, item.salt) ??
          (item.value.length > Bep44.MAX_VALUE_BYTES
            ? new Dht.DhtInvalidItem({
              reason: `value is ${item.value.length} bytes, at most ${Bep44.MAX_VALUE_BYTES}`
            })
            : item.signature.length !== Item.SIGNATURE_BYTES
            ? new Dht.DhtInvalidItem({ reason: "signature must be 64 bytes" })
            : undefined)
        if (invalid !== undefined) return yield* invalid
        const target = Bep44.target(item.publicKey, item.salt)
        const remembered = writeTargets.recall(target, yield* Clock.currentTimeMillis)
        if (remembered !== undefined) {
          const stored = yield* putTo(remembered, item, target, cas)
          if (stored._tag === "Right") return stored.right
          // A refusal about the item itself (seq, cas) would only be repeated by other nodes; anything else may be
          // stale tokens or nodes that went away: walk the DHT as if nothing were remembered.
          if (stored.left._tag === "DhtPutRejected" && stored.left.code !== Krpc.ErrorCode.Protocol) {
            return yield* stored.left
          }
          writeTargets.forget(target)
        }
        // Otherwise a fresh lookup per attempt: the write tokens come from it, and they go stale.
        const responders = yield* lookup(ctx, target, "get", () => Effect.void)
        if (responders.length === 0) return yield* nobodyAnswered
        const writable = writeTargets.remember(target, responders, yield* Clock.currentTimeMillis)
        if (writable.length === 0) {
          return yield* new Dht.DhtUnavailable({ reason: "no storing node handed out a write token" })
        }
        return yield* Effect.flatten(putTo(writable, item, target, cas))
      })

    const bootstrap = lookup(ctx, id, "find_node", () => Effect.void).pipe(Effect.map(() => table.size()))

    return {
      id,
      address: rpc.local,
      transport: { lookup: lookupItems, store },
      bootstrap,
      routingTableSize: table.size,
      stored: (target) => server?.stored(target),
      storedCount: () => server?.size() ?? 0,
      stats
    }
  })

/** Keep the routing table fresh on a long-running node (Kademlia's bucket refresh, simplified to a self-lookup). */
export const refreshForever = (node: Node, every: Duration.Duration) =>
  node.bootstrap.pipe(Effect.repeat(Schedule.spaced(every)), Effect.asVoid)
