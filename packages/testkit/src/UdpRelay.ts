/**
 * A UDP impairment relay for real endpoints (iroh's QUIC among them): each member has a front socket on the
 * relay and publishes the front's address instead of its own. A datagram member A sends to B's front goes out
 * to B from A's front, so B sees A at A's front and its replies take the same way back: both directions of
 * every pair cross the relay, and each endpoint sees its peers at one stable address (QUIC needs no more).
 *
 * On the way each datagram meets the link's impairment: delay with jitter, loss, reordering (a share held back
 * so later ones overtake) and a blackhole, all changeable while running. Draws come from a seeded `Random`,
 * delays from the `Clock`. Datagrams from an address that is no member's are dropped and counted.
 *
 * For the relay to be the only way, the members must not reach each other directly (separate network
 * namespaces routed through the relay's, as `e2e/impaired.mjs` builds): a member that can also reach a peer's
 * own address may find it (iroh probes every address it learns) and bypass the relay.
 */
import { Duration, Effect, Random, Runtime, type Scope } from "effect"
import * as dgram from "node:dgram"

export interface Member {
  /** A name to address the member by in `set`/`blackhole`. */
  readonly name: string
  /** "host:port" the relay binds for this member (port 0: any free one): what the member publishes. */
  readonly front: string
  /** "host:port" the member's endpoint really listens on. */
  readonly target: string
}

/** What happens to datagrams on one directed link. Every field defaults to none. */
export interface Link {
  readonly latency?: Duration.DurationInput
  /** Each delay is `latency` plus a uniform draw in [-jitter, +jitter], never below 0. */
  readonly jitter?: Duration.DurationInput
  /** Share of datagrams dropped, 0..1. */
  readonly loss?: number
  /** Share of datagrams held back by `reorderDelay` on top, so the ones sent after them arrive first. */
  readonly reorder?: number
  /** Default 25 ms. */
  readonly reorderDelay?: Duration.DurationInput
  /** Drop everything. */
  readonly blackhole?: boolean
}

export interface RelayOptions {
  readonly members: ReadonlyArray<Member>
  /** The impairment of every link at start (from, to are member names). Default: none. */
  readonly link?: Link | ((from: string, to: string) => Link)
  /** Seed of the loss, jitter and reorder draws. Default 0. */
  readonly seed?: number
  /** Datagrams waiting out a delay at once; more are dropped like a full router queue. Default 16 384. */
  readonly maxDelayed?: number
}

export interface RelayStats {
  forwarded: number
  lost: number
  blackholed: number
  reordered: number
  /** Dropped because too many were waiting out a delay. */
  overflow: number
  /** From an address that is no member's target. */
  unknownSource: number
}

export interface UdpRelay {
  /** Each member's front as bound ("host:port"), by name. */
  readonly fronts: ReadonlyMap<string, string>
  readonly stats: RelayStats
  /** Forwarded datagrams per directed link, keyed "from>to". */
  readonly linkCounts: () => ReadonlyMap<string, number>
  /** Replace the impairment of the links from each of `from` to each of `to` (default: every member). */
  readonly set: (link: Link, from?: ReadonlyArray<string>, to?: ReadonlyArray<string>) => void
  /** Cut (or restore) both directions between every member of `a` and every member of `b`. */
  readonly blackhole: (a: ReadonlyArray<string>, b: ReadonlyArray<string>, on: boolean) => void
}

interface LinkMillis {
  readonly latency: number
  readonly jitter: number
  readonly loss: number
  readonly reorder: number
  readonly reorderDelay: number
  readonly blackhole: boolean
}

const millis = (d: Duration.DurationInput | undefined, fallback = 0) =>
  d === undefined ? fallback : Duration.toMillis(Duration.decode(d))
const share = (x: number | undefined) => Math.min(1, Math.max(0, x ?? 0))

const toMillis = (link: Link): LinkMillis => ({
  latency: millis(link.latency),
  jitter: millis(link.jitter),
  loss: share(link.loss),
  reorder: share(link.reorder),
  reorderDelay: millis(link.reorderDelay, 25),
  blackhole: link.blackhole === true
})

const splitHostPort = (s: string): { host: string; port: number } => {
  const i = s.lastIndexOf(":")
  const port = Number(s.slice(i + 1))
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not host:port: ${s}`)
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ""), port }
}

const bind = (front: string) =>
  Effect.acquireRelease(
    Effect.async<dgram.Socket, Error>((resume) => {
      const { host, port } = splitHostPort(front)
      const socket = dgram.createSocket({ type: host.includes(":") ? "udp6" : "udp4" })
      socket.once("error", (e) => resume(Effect.fail(e)))
      socket.bind(port, host, () => {
        socket.removeAllListeners("error")
        socket.on("error", () => {})
        resume(Effect.succeed(socket))
      })
    }),
    (socket) =>
      Effect.async<void>((resume) => {
        socket.removeAllListeners("message")
        try {
          socket.close(() => resume(Effect.void))
        } catch {
          resume(Effect.void)
        }
      })
  )

/** Binds every front in the current scope; closing the scope closes them and drops what is still delayed. */
export const make = (options: RelayOptions): Effect.Effect<UdpRelay, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const random = Random.make(options.seed ?? 0)
    const maxDelayed = options.maxDelayed ?? 16_384
    const names = options.members.map((m) => m.name)
    if (new Set(names).size !== names.length) return yield* Effect.fail(new Error("member names must be unique"))
    const targets = options.members.map((m) => splitHostPort(m.target))
    const byTarget = new Map(options.members.map((m, i) => [`${targets[i]!.host}:${targets[i]!.port}`, i]))
    const indexOf = new Map(names.map((n, i) => [n, i]))
    const initial = (from: number, to: number) =>
      toMillis(typeof options.link === "function" ? options.link(names[from]!, names[to]!) : (options.link ?? {}))
    const links: Array<Array<LinkMillis>> = names.map((_, i) => names.map((_, j) => initial(i, j)))
    const counts: Array<Array<number>> = names.map(() => names.map(() => 0))
    const stats: RelayStats = { forwarded: 0, lost: 0, blackholed: 0, reordered: 0, overflow: 0, unknownSource: 0 }
    let delayed = 0

    const sockets = yield* Effect.forEach(options.members, (m) => bind(m.front))

    const forward = (from: number, to: number, bytes: Buffer): Effect.Effect<void> =>
      Effect.gen(function*() {
        const link = links[from]![to]!
        if (link.blackhole) return void stats.blackholed++
        if (link.loss > 0 && (yield* random.next) < link.loss) return void stats.lost++
        let delay = link.latency + (link.jitter > 0 ? (2 * (yield* random.next) - 1) * link.jitter : 0)
        if (link.reorder > 0 && (yield* random.next) < link.reorder) {
          stats.reordered++
          delay += link.reorderDelay
        }
        const target = targets[to]!
        const send = Effect.sync(() => {
          stats.forwarded++
          counts[from]![to]!++
          try {
            sockets[from]!.send(bytes, target.port, target.host)
          } catch {
            // closing, or an address the kernel refuses: lost like any datagram
          }
        })
        if (delay <= 0) return yield* send
        if (delayed >= maxDelayed) return void stats.overflow++
        delayed++
        yield* send.pipe(
          Effect.delay(Duration.millis(delay)),
          Effect.ensuring(Effect.sync(() => delayed--)),
          Effect.forkIn(scope)
        )
      })

    // Socket callbacks run outside any fiber: hand each datagram to the runtime we were built in (its Clock).
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    sockets.forEach((socket, to) => {
      socket.on("message", (bytes, rinfo) => {
        const from = byTarget.get(`${rinfo.address}:${rinfo.port}`)
        if (from === undefined || from === to) return void stats.unknownSource++
        runFork(forward(from, to, bytes))
      })
    })

    const fronts = new Map(
      sockets.map((s, i) => {
        const a = s.address()
        return [names[i]!, a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`] as const
      })
    )
    const resolveNames = (list: ReadonlyArray<string> | undefined) =>
      (list ?? names).map((n) => {
        const i = indexOf.get(n)
        if (i === undefined) throw new Error(`no relay member ${n}`)
        return i
      })

    return {
      fronts,
      stats,
      linkCounts: () => {
        const out = new Map<string, number>()
        counts.forEach((row, i) => row.forEach((c, j) => c > 0 && out.set(`${names[i]}>${names[j]}`, c)))
        return out
      },
      set: (link, from, to) => {
        const l = toMillis(link)
        for (const i of resolveNames(from)) for (const j of resolveNames(to)) links[i]![j] = l
      },
      blackhole: (a, b, on) => {
        for (const i of resolveNames(a)) {
          for (const j of resolveNames(b)) {
            links[i]![j] = { ...links[i]![j]!, blackhole: on }
            links[j]![i] = { ...links[j]![i]!, blackhole: on }
          }
        }
      }
    }
  })
