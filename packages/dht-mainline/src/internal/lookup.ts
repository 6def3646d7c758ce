/**
 * The iterative Kademlia lookup of BEP5, shared by `find_node` (bootstrap) and BEP44 `get`: keep a candidate
 * list ordered by XOR distance to the target, query the closest unqueried ones (up to `alpha` at a time), learn
 * closer nodes from each reply, and stop when the K closest nodes that answered have all been queried and
 * nothing is in flight. A request unanswered after the RPC's soft timeout (adaptive, see `rtt.ts`) is "stalled":
 * it gives its place among the `alpha` up to the next candidate and no longer holds the lookup open once some
 * node has answered, though its answer still counts while the lookup runs. So a silent node costs a lookup
 * about one soft timeout instead of the full request timeout. Every reply body is handed to `onReply` as it arrives (that is how `get` sees the value
 * of every storing node, not just one); the result is the K closest responders with the tokens they gave.
 */
import { Bytes } from "@dtt/core"
import { Effect, Exit, Queue } from "effect"
import * as Bencode from "../Bencode.js"
import * as Krpc from "../Krpc.js"
import { type Address, addressKey, compareDistance, decodeNodes, ID_BYTES, type NodeInfo } from "./address.js"
import * as Deadlines from "./deadlines.js"
import type { RoutingTable } from "./routingTable.js"
import type { Rpc, RpcFailure } from "./rpc.js"

export interface Responder extends NodeInfo {
  /** The write token the node handed out (BEP5/BEP44), needed to `put` to it. */
  readonly token: Uint8Array | undefined
}

export interface LookupContext {
  readonly rpc: Rpc
  readonly table: RoutingTable
  readonly localId: Uint8Array
  /** Addresses to start from when the routing table is thin (bootstrap routers, testbed nodes). */
  readonly seeds: Effect.Effect<ReadonlyArray<Address>>
  readonly alpha: number
  readonly k: number
  readonly maxCandidates: number
}

interface Candidate {
  readonly host: string
  readonly port: number
  id: Uint8Array | undefined
  state: "new" | "waiting" | "stalled" | "answered" | "failed"
  token: Uint8Array | undefined
}

const MAX_NODES_PER_REPLY = 64
const MAX_TOKEN_BYTES = 64

export const lookup = (
  ctx: LookupContext,
  target: Uint8Array,
  method: "get" | "find_node",
  onReply: (from: NodeInfo, body: Bencode.Dict) => Effect.Effect<void>
): Effect.Effect<ReadonlyArray<Responder>> =>
  Effect.gen(function*() {
    const self = addressKey(ctx.rpc.local)
    const candidates = new Map<string, Candidate>()
    // Unknown ids (seeds) sort first so they are asked at once; the rest by distance.
    const order = (a: Candidate, b: Candidate) =>
      a.id === undefined ? (b.id === undefined ? 0 : -1) : b.id === undefined ? 1 : compareDistance(target, a.id, b.id)
    const sorted = () => [...candidates.values()].sort(order)

    const offer = (node: { readonly host: string; readonly port: number; readonly id?: Uint8Array | undefined }) => {
      const key = addressKey(node)
      if (key === self || candidates.has(key)) return
      if (node.id !== undefined && Bytes.equal(node.id, ctx.localId)) return
      candidates.set(key, { host: node.host, port: node.port, id: node.id, state: "new", token: undefined })
      if (candidates.size > ctx.maxCandidates) {
        // Forget the farthest candidate not yet asked, so the list stays bounded while closer nodes still get in.
        const victim = sorted().reverse().find((c) => c.state === "new")
        if (victim !== undefined) candidates.delete(addressKey(victim))
      }
    }

    for (const node of ctx.table.closest(target, ctx.k)) offer(node)
    let seeded = false
    const offerSeeds = Effect.gen(function*() {
      seeded = true
      for (const seed of yield* ctx.seeds) offer(seed)
    })
    if (ctx.table.size() < ctx.k) yield* offerSeeds

    const next = (): Candidate | undefined => {
      let answered = 0
      for (const c of sorted()) {
        if (c.state === "answered" && ++answered >= ctx.k) return undefined
        if (c.state === "new") return c
      }
      return undefined
    }

    const args = Bencode.dict({ id: ctx.localId, target })
    type Event =
      | { readonly c: Candidate; readonly exit: Exit.Exit<Bencode.Dict, RpcFailure> }
      | { readonly c: Candidate; readonly exit: undefined }
    const events = yield* Queue.unbounded<Event>()
    const clock = yield* Effect.clock
    // A request past the soft timeout comes back as an event without an exit (one timer for the whole lookup).
    const softTimeouts = yield* Deadlines.make<Candidate>((c) => Queue.unsafeOffer(events, { c, exit: undefined }))
    /** Requests neither answered nor stalled: at most `alpha`. */
    let inFlight = 0
    /** Requests past the soft timeout that may still answer. */
    let stalled = 0
    let anyAnswered = false

    for (;;) {
      for (let c = next(); c !== undefined && inFlight < ctx.alpha; c = next()) {
        const candidate = c
        candidate.state = "waiting"
        inFlight++
        yield* ctx.rpc.request(candidate, method, args).pipe(
          Effect.exit,
          Effect.flatMap((exit) => Queue.offer(events, { c: candidate, exit })),
          Effect.forkScoped
        )
        softTimeouts.add(candidate, clock.unsafeCurrentTimeMillis() + ctx.rpc.softTimeout())
      }
      if (inFlight === 0) {
        // A full routing table whose nodes have all gone away (laptop changed networks): start over from the seeds.
        if (!seeded && !anyAnswered) {
          yield* offerSeeds
          if (next() !== undefined) continue
        }
        // Stalled requests hold the lookup open only while nobody has answered (they are then all it has).
        if (stalled === 0 || anyAnswered) break
      }
      const { c, exit } = yield* Queue.take(events)
      if (exit === undefined) {
        if (c.state === "waiting") {
          c.state = "stalled"
          inFlight--
          stalled++
          ctx.rpc.stats.stalledRequests++
        }
        continue
      }
      softTimeouts.remove(c)
      if (c.state === "stalled") stalled--
      else inFlight--
      const body = Exit.isSuccess(exit) ? exit.value : undefined
      const id = body === undefined ? undefined : Krpc.fixedBytes(body, "id", ID_BYTES)
      if (body === undefined || id === undefined) {
        c.state = "failed"
        if (c.id !== undefined && Exit.isFailure(exit)) ctx.table.remove(c.id)
        continue
      }
      c.id = id
      c.state = "answered"
      anyAnswered = true
      const token = Krpc.bytes(body, "token")
      c.token = token !== undefined && token.length <= MAX_TOKEN_BYTES ? token : undefined
      const node: NodeInfo = { id, host: c.host, port: c.port }
      ctx.table.add(node)
      const nodes = Krpc.bytes(body, "nodes")
      if (nodes !== undefined) { for (const n of decodeNodes(nodes, MAX_NODES_PER_REPLY)) offer(n) }
      yield* onReply(node, body)
    }

    return sorted()
      .filter((c) => c.state === "answered" && c.id !== undefined)
      .slice(0, ctx.k)
      .map((c) => ({ id: c.id!, host: c.host, port: c.port, token: c.token }))
  }).pipe(Effect.scoped)
