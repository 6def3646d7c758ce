/**
 * The KRPC endpoint: one UDP socket, outgoing requests matched to replies by a 4-byte transaction id, a
 * per-request timeout, a bound on requests in flight, and incoming queries handed to a synchronous handler.
 *
 * Each datagram is handled as it arrives, in the socket's callback (through a bounded dropping queue and one
 * fiber when an impairment delays datagrams), so a flood costs parsing time but no memory; a datagram that fails
 * to parse is counted and dropped. Replies are accepted only from the address the request went to (a third
 * party cannot answer for a node it cannot see the transaction ids of).
 */
import { Dht } from "@dtt/core"
import { Duration, Effect, Queue, Random, type Scope } from "effect"
import * as dgram from "node:dgram"
import type * as Bencode from "../Bencode.js"
import type { Impairment } from "../Impairment.js"
import * as Krpc from "../Krpc.js"
import { type Address, addressKey } from "./address.js"
import * as Deadlines from "./deadlines.js"
import * as Impair from "./impair.js"
import * as Rtt from "./rtt.js"

export type RpcFailure =
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "Remote"; readonly code: number; readonly message: string }

export type Reply =
  | { readonly _tag: "Response"; readonly body: Bencode.Dict }
  | { readonly _tag: "Error"; readonly code: number; readonly message: string }

export interface RpcStats {
  received: number
  malformed: number
  dropped: number
  queriesAnswered: number
  requestsSent: number
  timeouts: number
  unmatchedReplies: number
  /** Datagrams a simulated impairment dropped (testbeds only). */
  impairedDrops: number
  /**
   * Requests a lookup or put stopped waiting for after the soft timeout (they may still answer; see `rtt.ts`).
   * Counted by the callers of `request`, which decide what a stall means.
   */
  stalledRequests: number
}

export interface Rpc {
  readonly local: Address
  readonly readOnly: boolean
  readonly stats: RpcStats
  /** One request; resolves with the reply body, or fails with a timeout or the remote error. */
  readonly request: (to: Address, method: string, args: Bencode.Dict) => Effect.Effect<Bencode.Dict, RpcFailure>
  /** Milliseconds after which an unanswered request need not hold anyone up: adapts to measured round trips. */
  readonly softTimeout: () => number
}

export interface RpcOptions {
  readonly host: string
  readonly port: number
  /** A read-only node sends `ro: 1` and ignores incoming queries. */
  readonly readOnly: boolean
  readonly requestTimeout: Duration.Duration
  /** Least soft timeout (see `rtt.ts`; default 400 ms); it never exceeds `requestTimeout`. */
  readonly softTimeoutFloor?: Duration.Duration
  readonly maxInFlight: number
  readonly inboxCapacity: number
  /** Answers a query; `undefined` means stay silent. Must not throw (it is guarded anyway). */
  readonly onQuery: (query: Krpc.Query, from: Address) => Reply | undefined
  /** A simulated bad network on this socket (testbeds). */
  readonly impairment?: Impairment
}

/**
 * Rust mainline 7 reads `t` into a 4-byte array and silently drops any message whose `t` has another length
 * (queries and replies alike), so our requests use exactly 4 bytes. Replies echo whatever the query carried.
 */
export const TRANSACTION_ID_BYTES = 4
const TRANSACTION_SPACE = 2 ** 32
const INITIAL_SOFT_TIMEOUT_MILLIS = 1000

const transactionIdBytes = (id: number): Uint8Array => {
  const out = new Uint8Array(TRANSACTION_ID_BYTES)
  new DataView(out.buffer).setUint32(0, id)
  return out
}

type Outcome = Effect.Effect<Bencode.Dict, RpcFailure>

/**
 * A request waiting for its reply. No fiber or timer of its own: the reply handler or the socket's timeouts
 * (`deadlines.ts`) complete it. `outcome` holds the result if it comes before the requester waits for it;
 * `resume` is set once the requester waits.
 */
interface Pending {
  readonly to: string
  readonly sentAt: number
  outcome: Outcome | undefined
  resume: ((outcome: Outcome) => void) | undefined
}

interface Datagram {
  readonly bytes: Uint8Array
  readonly from: Address
}

const bindSocket = (host: string, port: number) =>
  Effect.acquireRelease(
    Effect.async<dgram.Socket, Dht.DhtUnavailable>((resume) => {
      const socket = dgram.createSocket({ type: "udp4" })
      const onBindError = (error: Error) => {
        try {
          socket.close()
        } catch {
          // already closed
        }
        resume(Effect.fail(new Dht.DhtUnavailable({ reason: `cannot bind udp ${host}:${port}: ${error.message}` })))
      }
      socket.once("error", onBindError)
      socket.bind(port, host, () => {
        socket.off("error", onBindError)
        // A UDP socket reports ICMP errors and the like as events; none of them should take the process down.
        socket.on("error", () => {})
        resume(Effect.succeed(socket))
      })
    }),
    (socket) =>
      Effect.async<void>((resume) => {
        try {
          socket.close(() => resume(Effect.void))
        } catch {
          resume(Effect.void)
        }
      })
  )

export const make = (options: RpcOptions): Effect.Effect<Rpc, Dht.DhtUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const socket = yield* bindSocket(options.host, options.port)
    const bound = socket.address()
    const local: Address = { host: bound.address, port: bound.port }
    const stats: RpcStats = {
      received: 0,
      malformed: 0,
      dropped: 0,
      queriesAnswered: 0,
      requestsSent: 0,
      timeouts: 0,
      unmatchedReplies: 0,
      impairedDrops: 0,
      stalledRequests: 0
    }
    const hardMillis = Duration.toMillis(options.requestTimeout)
    const rtt = Rtt.make({
      floor: Math.min(hardMillis, Duration.toMillis(options.softTimeoutFloor ?? Rtt.DEFAULT_SOFT_TIMEOUT_FLOOR)),
      ceiling: hardMillis,
      // RFC 6298's initial RTO, 1 s: a fresh client learns the real figure from its first answers.
      initial: Math.min(hardMillis, INITIAL_SOFT_TIMEOUT_MILLIS)
    })
    const impair = yield* Impair.make(options.impairment, () => stats.impairedDrops++)
    const clock = yield* Effect.clock
    const pending = new Map<number, Pending>()
    const timeouts = yield* Deadlines.make<number>((id) => {
      const entry = pending.get(id)
      if (entry === undefined) return
      stats.timeouts++
      complete(id, entry, Effect.fail({ _tag: "Timeout" }))
    })
    const forget = (id: number) => {
      pending.delete(id)
      timeouts.remove(id)
    }
    const permits = yield* Effect.makeSemaphore(options.maxInFlight)
    let nextTransaction = yield* Random.nextIntBetween(0, TRANSACTION_SPACE)

    const sendNow = (to: Address, bytes: Uint8Array) => {
      try {
        socket.send(bytes, to.port, to.host)
      } catch {
        // Socket closing, or an address Node refuses: the request will time out like a lost datagram.
      }
    }

    const send = (to: Address, bytes: Uint8Array): Effect.Effect<void> =>
      impair.outbound(Effect.sync(() => sendNow(to, bytes)))

    /** The datagram our answer to `query` is, if we answer. */
    const answer = (query: Krpc.Query, from: Address): Uint8Array | undefined => {
      let reply: Reply | undefined
      try {
        reply = options.onQuery(query, from)
      } catch {
        reply = { _tag: "Error", code: Krpc.ErrorCode.Server, message: "Server Error" }
      }
      if (reply === undefined) return undefined
      stats.queriesAnswered++
      return reply._tag === "Response"
        ? Krpc.encodeResponse(query.transactionId, reply.body)
        : Krpc.encodeError(query.transactionId, reply.code, reply.message)
    }

    const complete = (id: number, entry: Pending, outcome: Outcome) => {
      forget(id)
      if (entry.resume !== undefined) entry.resume(outcome)
      else entry.outcome = outcome
    }

    const settle = (message: Krpc.Response | Krpc.ErrorReply, from: Address): void => {
      const t = message.transactionId
      const id = t.length === TRANSACTION_ID_BYTES ? Buffer.from(t).readUInt32BE(0) : undefined
      const entry = id === undefined ? undefined : pending.get(id)
      if (id === undefined || entry === undefined || entry.to !== addressKey(from)) {
        stats.unmatchedReplies++
        return
      }
      // An error reply is a round trip too; a timeout is not a sample (its RTT is unknown).
      rtt.sample(clock.unsafeCurrentTimeMillis() - entry.sentAt)
      complete(
        id,
        entry,
        message._tag === "Response"
          ? Effect.succeed(message.body)
          : Effect.fail({ _tag: "Remote", code: message.code, message: message.message })
      )
    }

    /** Parses and acts on one datagram; returns the answer to send, if any. Never throws. */
    const handle = ({ bytes, from }: Datagram): Uint8Array | undefined => {
      try {
        const parsed = Krpc.parse(bytes)
        if (parsed._tag === "Left") {
          stats.malformed++
          return undefined
        }
        const message = parsed.right
        if (message._tag === "Query") return options.readOnly || impair.silent ? undefined : answer(message, from)
        settle(message, from)
      } catch {
        stats.malformed++
      }
      return undefined
    }

    // Without impairment a datagram is handled in the socket's callback: a queue and a fiber hop per datagram cost
    // more than parsing it. An impaired socket (testbeds) goes through the bounded queue and the impairment's
    // delays, which need fibers.
    const respondNow = (datagram: Datagram) => {
      const reply = handle(datagram)
      if (reply !== undefined) sendNow(datagram.from, reply)
    }
    const queued = Effect.gen(function*() {
      const inbox = yield* Queue.dropping<Datagram>(options.inboxCapacity)
      yield* Queue.take(inbox).pipe(
        Effect.flatMap((d) =>
          impair.inbound(Effect.suspend(() => {
            const reply = handle(d)
            return reply === undefined ? Effect.void : send(d.from, reply)
          }))
        ),
        Effect.forever,
        Effect.forkScoped
      )
      return (datagram: Datagram) => {
        if (!Queue.unsafeOffer(inbox, datagram)) stats.dropped++
      }
    })
    const receive = impair.passesThrough ? respondNow : yield* queued

    socket.on("message", (msg, rinfo) => {
      stats.received++
      if (msg.length > Krpc.MAX_DATAGRAM_BYTES || rinfo.family !== "IPv4") {
        stats.dropped++
        return
      }
      receive({ bytes: new Uint8Array(msg), from: { host: rinfo.address, port: rinfo.port } })
    })
    // Stop delivering before the pending requests and the queue go away with the scope.
    yield* Effect.addFinalizer(() => Effect.sync(() => socket.removeAllListeners("message")))

    const allocate = () => {
      // At most `maxInFlight` ids are in use, so a free one is always found.
      do nextTransaction = (nextTransaction + 1) % TRANSACTION_SPACE
      while (pending.has(nextTransaction))
      return nextTransaction
    }

    const request = (to: Address, method: string, args: Bencode.Dict): Effect.Effect<Bencode.Dict, RpcFailure> =>
      Effect.suspend(() => {
        const id = allocate()
        const sentAt = clock.unsafeCurrentTimeMillis()
        const entry: Pending = { to: addressKey(to), sentAt, outcome: undefined, resume: undefined }
        pending.set(id, entry)
        timeouts.add(id, sentAt + hardMillis)
        stats.requestsSent++
        return send(to, Krpc.encodeQuery(transactionIdBytes(id), method, args, options.readOnly)).pipe(
          Effect.zipRight(Effect.async<Bencode.Dict, RpcFailure>((resume) => {
            if (entry.outcome !== undefined) return resume(entry.outcome)
            entry.resume = resume
          })),
          // Interrupted (the lookup ended without it): forget it, a late reply is then unmatched.
          Effect.ensuring(Effect.sync(() => forget(id)))
        )
      }).pipe(permits.withPermits(1))

    return { local, readOnly: options.readOnly, stats, request, softTimeout: rtt.softTimeout }
  })
