/**
 * The iroh endpoint as a scoped resource: bound on open, accept loop forked into the scope, closed (with every
 * pending napi promise settled) when the scope closes; the end of QUIC's closing period may run on in the
 * background (`endpointClose.ts`).
 *
 * Why the care: a dial to a peer that never answers only fails after ~30 s inside iroh, so every dial carries our
 * own timeout; a connection that resolves after we gave up is closed at once instead of leaking; and
 * `endpoint.online()` is never called (with relays off it never resolves and keeps Node alive after close).
 */
import type { EndpointId as Id } from "@dtt/core"
import { Duration, Effect, Option, Queue, type Scope } from "effect"
type EndpointId = Id.EndpointId
import { closeEndpoint, DEFAULT_CLOSE_WAIT } from "./endpointClose.js"
import { DialError, EndpointBindError } from "./errors.js"
import * as Iroh from "./iroh.js"
import { releaseClosedEndpointsSoon } from "./nativeRelease.js"

export const GOSSIP_ALPN: Uint8Array = new TextEncoder().encode("/iroh-gossip/1")

export type RelaySetting =
  /** No relay servers at all (tests, loopback, private networks). */
  | { readonly _tag: "Disabled" }
  /** number0's public relays (production). */
  | { readonly _tag: "Default" }
  | { readonly _tag: "Custom"; readonly urls: ReadonlyArray<string> }

export interface EndpointOptions {
  readonly secretKey: Uint8Array
  /** `ip:port` to bind. Defaults to loopback with a random port. */
  readonly bindAddr?: string
  /** `minimal` = no DNS/pkarr lookups (offline); `n0` = number0's DNS + pkarr lookups and relays. */
  readonly preset?: "minimal" | "n0"
  readonly relay?: RelaySetting
  readonly alpn?: Uint8Array
  /** Upper bound on one dial. iroh alone gives up after ~30 s. */
  readonly dialTimeout?: Duration.DurationInput
  /**
   * After closing, ask V8 for a full collection so the napi wrapper frees the endpoint's sockets and native memory
   * (see `nativeRelease.ts`). Default true.
   */
  readonly collectOnClose?: boolean
  /**
   * Addresses ("ip:port") to publish instead of the bound ones (ticket, PeerData, address lookups): a port
   * forward, a NAT's public side, or an impairment relay in front of us. Default: what iroh reports.
   */
  readonly advertisedAddresses?: ReadonlyArray<string>
  /**
   * How long closing waits for the peers to answer our QUIC close before iroh finishes it in the background
   * (see `endpointClose.ts`). Default 250 ms.
   */
  readonly closeWait?: Duration.DurationInput
}

/** What we know of how to reach a peer. */
export interface DialAddr {
  readonly id: EndpointId
  readonly relayUrl: string | undefined
  readonly directAddresses: ReadonlyArray<string>
}

export interface AcceptedConnection {
  readonly remote: EndpointId
  readonly connection: Iroh.Connection
}

export interface NetEndpoint {
  readonly id: EndpointId
  readonly alpn: Uint8Array
  /** True when the endpoint can find peers by id alone (DNS/pkarr lookups configured). */
  readonly canLookupById: boolean
  /** Our current addresses, as iroh reports them. */
  readonly addr: Effect.Effect<DialAddr>
  /** Connections peers opened to us with our ALPN. */
  readonly accepted: Queue.Dequeue<AcceptedConnection>
  readonly dial: (addr: DialAddr) => Effect.Effect<Iroh.Connection, DialError>
  /** What iroh itself knows about a peer it has talked to (unspecified addresses filtered out). */
  readonly remoteAddr: (peer: EndpointId) => Effect.Effect<Option.Option<DialAddr>>
}

const UNSPECIFIED = /^(0\.0\.0\.0|\[::\]):\d+$/

export const toDialAddr = (addr: Iroh.EndpointAddr): DialAddr => ({
  id: addr.id().toString() as EndpointId,
  relayUrl: addr.relayUrl() ?? undefined,
  // iroh may list the unspecified address of a wildcard socket; nobody can dial that.
  directAddresses: addr.directAddresses().filter((a) => !UNSPECIFIED.test(a))
})

const toEndpointAddr = (addr: DialAddr): Iroh.EndpointAddr =>
  new Iroh.EndpointAddr(Iroh.EndpointId.fromString(addr.id), addr.relayUrl ?? null, [...addr.directAddresses])

const bytesEqual = (a: ReadonlyArray<number>, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

const bind = (options: EndpointOptions) =>
  Effect.tryPromise({
    try: async () => {
      const builder = Iroh.Endpoint.builder()
      if ((options.preset ?? "minimal") === "n0") Iroh.presetN0(builder)
      else Iroh.presetMinimal(builder)
      const relay = options.relay ?? { _tag: "Disabled" }
      builder.relayMode(
        relay._tag === "Disabled"
          ? Iroh.RelayMode.disabled()
          : relay._tag === "Default"
          ? Iroh.RelayMode.defaultMode()
          : Iroh.RelayMode.customFromUrls([...relay.urls])
      )
      builder.secretKey(Iroh.toNapiBytes(options.secretKey))
      builder.alpns([Iroh.toNapiBytes(options.alpn ?? GOSSIP_ALPN)])
      builder.bindAddr(options.bindAddr ?? "127.0.0.1:0")
      return builder.bind()
    },
    catch: (e) => new EndpointBindError({ reason: Iroh.napiErrorMessage(e) })
  })

/** Settles a napi promise we stop caring about, so it can never become an unhandled rejection. */
const ignore = (p: Promise<unknown>) => {
  p.then(
    () => undefined,
    () => undefined
  )
}

/** Takes one incoming connection through the QUIC + TLS handshake; refuses foreign ALPNs. */
const acceptOne = (
  incoming: { accept(): Promise<{ alpn(): Promise<Array<number>>; connect(): Promise<Iroh.Connection> }> },
  alpn: Uint8Array
) =>
  Effect.tryPromise(async () => {
    const accepting = await incoming.accept()
    const offered = await accepting.alpn()
    if (!bytesEqual(offered, alpn)) {
      // Finish the handshake only to close it with a reason; a half-open handshake would linger.
      ignore(accepting.connect().then((c) => c.close(0n, Iroh.toNapiBytes(new TextEncoder().encode("unknown alpn")))))
      return undefined
    }
    return accepting.connect()
  }).pipe(Effect.orElseSucceed(() => undefined))

export const make = (options: EndpointOptions): Effect.Effect<NetEndpoint, EndpointBindError, Scope.Scope> =>
  Effect.gen(function*() {
    const alpn = options.alpn ?? GOSSIP_ALPN
    const dialTimeout = Duration.decode(options.dialTimeout ?? Duration.seconds(10))
    // The napi object is reachable only through `live`, which closing clears: a handle the user keeps after
    // closing (a Node, Topic or reader) then no longer keeps the endpoint's sockets (see nativeRelease.ts).
    // `close()` alone keeps the sockets until the JS object is collected, hence the collection once it is done.
    const release = () => {
      if (options.collectOnClose ?? true) releaseClosedEndpointsSoon()
    }
    let live: Iroh.Endpoint | undefined = yield* Effect.acquireRelease(
      bind(options),
      (ep) =>
        closeEndpoint(ep, options.closeWait ?? DEFAULT_CLOSE_WAIT, release).pipe(
          Effect.zipRight(Effect.sync(() => {
            live = undefined
            release()
          }))
        )
    )
    const id = live.id().toString() as EndpointId
    const accepted = yield* Effect.acquireRelease(Queue.unbounded<AcceptedConnection>(), Queue.shutdown)

    // Accept loop: `acceptNext()` resolves null once the endpoint is closed, which ends the loop.
    yield* Effect.gen(function*() {
      while (true) {
        const ep = live
        if (ep === undefined) return
        const incoming = yield* Effect.tryPromise(() => ep.acceptNext()).pipe(Effect.orElseSucceed(() => null))
        if (incoming === null) return
        // Handshakes run concurrently: one slow or hostile peer must not stall the others.
        yield* acceptOne(incoming, alpn).pipe(
          Effect.flatMap((connection) =>
            connection === undefined
              ? Effect.void
              : Queue.offer(accepted, { remote: connection.remoteId().toString() as EndpointId, connection })
          ),
          Effect.forkScoped
        )
      }
    }).pipe(Effect.forkScoped)

    const dial = (addr: DialAddr): Effect.Effect<Iroh.Connection, DialError> => {
      if (addr.id === id) {
        return Effect.fail(new DialError({ peer: addr.id, reason: "Self", detail: "dial to ourself" }))
      }
      return Effect.async<Iroh.Connection, DialError>((resume) => {
        let abandoned = false
        let promise: Promise<Iroh.Connection>
        try {
          if (live === undefined) throw new Error("endpoint closed")
          promise = live.connect(toEndpointAddr(addr), Iroh.toNapiBytes(alpn))
        } catch (e) {
          resume(Effect.fail(new DialError({ peer: addr.id, reason: "Failed", detail: Iroh.napiErrorMessage(e) })))
          return
        }
        promise.then(
          (conn) => {
            // A connection that arrives after the timeout would otherwise live on, unreferenced.
            if (abandoned) conn.close(0n, [])
            else resume(Effect.succeed(conn))
          },
          (e) => {
            if (!abandoned) {
              resume(Effect.fail(new DialError({ peer: addr.id, reason: "Failed", detail: Iroh.napiErrorMessage(e) })))
            }
          }
        )
        return Effect.sync(() => {
          abandoned = true
        })
      }).pipe(
        Effect.timeoutFail({
          duration: dialTimeout,
          onTimeout: () =>
            new DialError({
              peer: addr.id,
              reason: "Timeout",
              detail: `no connection after ${Duration.format(dialTimeout)}`
            })
        })
      )
    }

    return {
      id,
      alpn,
      canLookupById: (options.preset ?? "minimal") === "n0",
      addr: Effect.sync(() => {
        if (live === undefined) return { id, relayUrl: undefined, directAddresses: [] }
        const own = toDialAddr(live.addr())
        return options.advertisedAddresses === undefined
          ? own
          : { ...own, directAddresses: [...options.advertisedAddresses] }
      }),
      accepted,
      dial,
      remoteAddr: (peer) =>
        Effect.tryPromise(() => {
          if (live === undefined) return Promise.resolve(null)
          return live.remoteAddr(Iroh.EndpointId.fromString(peer))
        }).pipe(
          Effect.map((a) => (a === null ? Option.none() : Option.some(toDialAddr(a)))),
          Effect.orElseSucceed(() => Option.none<DialAddr>())
        )
    } satisfies NetEndpoint
  })
