/**
 * The real `Gossip` service: iroh-gossip 0.101 (HyParView + Plumtree, byte-compatible with Rust nodes) over an
 * `@number0/iroh` endpoint whose secret key is the node's `NodeIdentity`.
 *
 * `layer(options)` provides both the core `Gossip` tag and `GossipIroh`, which adds what only this
 * implementation has: our dialable address (and ticket), feeding peers' addresses into the address book, and
 * driver statistics.
 */
import { type EndpointId, Gossip, NodeIdentity, PeerAddresses } from "@dtt/core"
import { Clock, Context, Duration, Effect, Layer, Option, Random, type Scope } from "effect"
import type { AddressLookup } from "./AddressLookup.js"
import * as Driver from "./net/driver.js"
import * as NetEndpoint from "./net/endpoint.js"
import type { EndpointBindError } from "./net/errors.js"
import * as Iroh from "./net/iroh.js"
import * as Subscription from "./net/subscription.js"
import { type HyParViewConfig, makeProtoConfig, type PlumtreeConfig } from "./proto/config.js"
import { topicIdFromBytes } from "./proto/events.js"
import { seededRng } from "./proto/rng.js"
import { ProtoState } from "./proto/state.js"
import { maxContentSize } from "./wire/frame.js"

export type DialAddr = NetEndpoint.DialAddr
export type RelaySetting = NetEndpoint.RelaySetting

export interface GossipIrohOptions {
  /** `ip:port` to bind; default `127.0.0.1:0` (loopback, random port). */
  readonly bindAddr?: string
  /** `minimal` (default): no DNS/pkarr lookups, works offline. `n0`: number0's DNS/pkarr lookups. */
  readonly preset?: "minimal" | "n0"
  /** Default: disabled. */
  readonly relay?: RelaySetting
  /** Default `/iroh-gossip/1`; every node of a network must use the same. */
  readonly alpn?: Uint8Array
  /** Default 4096 (min 512); every node of a network must use the same. */
  readonly maxMessageSize?: number
  readonly membership?: Partial<HyParViewConfig>
  readonly broadcast?: Partial<PlumtreeConfig>
  /** Extra address lookups (e.g. `AddressLookup.dht`), asked when the address book knows nothing of a peer. */
  readonly lookups?: ReadonlyArray<AddressLookup>
  /** Peers' addresses known up front (EndpointAddr-like records or iroh endpoint tickets). */
  readonly knownAddresses?: ReadonlyArray<DialAddr | string>
  readonly dialTimeout?: number
  /** Events one subscriber may fall behind before it sees `Lagged` (iroh-gossip: 2048). */
  readonly subscriptionCapacity?: number
  /**
   * Milliseconds after which a connection neither side uses any more is closed. Default 30000. iroh-gossip keeps
   * such connections until the peer goes away (upstream #155): between long-lived nodes every eviction and
   * re-dial left one more open, about 15 per node in a 10-node soak's first two minutes, and past the total
   * limit (`connectionLimits`) new peers would be refused. `Infinity` keeps iroh-gossip's behaviour. Closing also
   * heals the one-sided neighbours HyParView's crossing race leaves (a peer that dropped us while we re-added
   * it): once it closes the idle connection, we count it as disconnected and refill from the passive view.
   */
  readonly idleConnectionTimeout?: number
  /**
   * `@number0/iroh` frees a closed endpoint's UDP sockets and native memory only when its JS object is
   * garbage-collected; with this on (default), closing the layer asks V8 for one full collection shortly after,
   * so the sockets really go. Turn it off if a full GC pause is worse for you than sockets lingering until V8
   * collects on its own.
   */
  readonly collectOnClose?: boolean
  /**
   * Connections one remote endpoint may hold open with us at once; further incoming ones are closed at once
   * (counted in `stats.connectionsRefused` and the `gossip_iroh_connections_refused` metric). Default 4: an
   * honest iroh-gossip peer needs one, two for a moment after crossing dials or a reconnect.
   */
  readonly maxConnectionsPerPeer?: number
  /** Connections open at once, all peers together; incoming ones beyond are refused likewise. Default 256. */
  readonly maxConnections?: number
  /**
   * Addresses ("ip:port") to publish instead of the bound ones, in our ticket, PeerData and address lookups
   * (a port forward, a NAT's public side, an impairment relay in front of us). Default: what iroh reports.
   */
  readonly advertisedAddresses?: ReadonlyArray<string>
  /**
   * Frames one connection may queue (default 1024). Beyond that, sending waits for room: `broadcast` then
   * resolves only once the node can take more (back-pressure), instead of accepting what it would drop.
   */
  readonly sendQueueCapacity?: number
  /**
   * Milliseconds sending waits for room in a full connection queue (a peer that stopped reading) before the
   * frame is dropped; drops are counted in `stats.framesDropped` and `gossip_iroh_frames_dropped`. Default 2000.
   */
  readonly sendQueueTimeout?: number
  /**
   * Milliseconds closing may spend handing what was already accepted (queued broadcasts, then the Disconnects)
   * to the connected neighbours, acknowledgements included, before the connections are closed. Default 1000;
   * with nothing queued, closing takes about one round trip.
   */
  readonly drainTimeout?: number
}

export interface GossipIrohService extends Gossip.GossipService {
  /** Our dialable address (id, relay, direct addresses) as the endpoint reports it now. */
  readonly addr: Effect.Effect<DialAddr>
  /** Our address as an iroh `EndpointTicket` string (what Rust's `EndpointTicket::from_str` parses). */
  readonly ticket: Effect.Effect<string>
  /** Teach the address book how to reach a peer (from an application, a ticket, a record...). */
  readonly addAddress: (addr: DialAddr | string) => Effect.Effect<void, InvalidTicket>
  /** What the address book knows of `peer` now (what a dial would use first), if anything. */
  readonly addressOf: (peer: EndpointId.EndpointId) => Effect.Effect<Option.Option<DialAddr>>
  readonly stats: Driver.DriverStats
  readonly activePeers: Effect.Effect<ReadonlyArray<EndpointId.EndpointId>>
  readonly openConnections: Effect.Effect<number>
}

/**
 * Frees the sockets and native memory of every iroh endpoint that was closed and is no longer referenced (a full
 * V8 collection, then the napi finalizers). Call after the scope or runtime that owned the layer has closed.
 */
export { DialError, EndpointBindError } from "./net/errors.js"
export { releaseClosedEndpoints } from "./net/nativeRelease.js"
/** Gauge `gossip_iroh_connections_open`: QUIC connections open in this process, every endpoint together. */
export { openConnectionsGauge as openConnections } from "./net/driver/api.js"

export class InvalidTicket extends Error {
  readonly _tag = "InvalidTicket"
}

export class GossipIroh extends Context.Tag("@dtt/gossip-iroh/GossipIroh")<GossipIroh, GossipIrohService>() {}

export const parseTicket = (ticket: string): Effect.Effect<DialAddr, InvalidTicket> =>
  Effect.try({
    try: () => NetEndpoint.toDialAddr(Iroh.EndpointTicket.fromString(ticket).endpointAddr()),
    catch: (e) => new InvalidTicket(Iroh.napiErrorMessage(e))
  })

const toTicket = (addr: DialAddr): string =>
  Iroh.EndpointTicket.fromAddr(
    new Iroh.EndpointAddr(Iroh.EndpointId.fromString(addr.id), addr.relayUrl ?? null, [...addr.directAddresses])
  ).toString()

export const make = (
  options: GossipIrohOptions = {}
): Effect.Effect<GossipIrohService, EndpointBindError, Scope.Scope | NodeIdentity.NodeIdentity> =>
  Effect.gen(function*() {
    const identity = yield* NodeIdentity.NodeIdentity
    const config = makeProtoConfig({
      maxMessageSize: options.maxMessageSize,
      membership: options.membership,
      broadcast: options.broadcast
    })
    const endpoint = yield* NetEndpoint.make({
      secretKey: identity.secretKey,
      bindAddr: options.bindAddr,
      preset: options.preset,
      relay: options.relay,
      alpn: options.alpn,
      dialTimeout: options.dialTimeout,
      collectOnClose: options.collectOnClose,
      advertisedAddresses: options.advertisedAddresses
    })
    const seed = yield* Random.nextIntBetween(0, 2 ** 31)
    const protocol = new ProtoState({ me: endpoint.id, rng: seededRng(seed), config })
    const driver = yield* Driver.make(endpoint, protocol, {
      ...Driver.defaultDriverOptions,
      maxMessageSize: config.maxMessageSize,
      lookups: options.lookups ?? [],
      connectionLimits: {
        maxConnectionsPerPeer: options.maxConnectionsPerPeer ??
          Driver.defaultDriverOptions.connectionLimits.maxConnectionsPerPeer,
        maxConnections: options.maxConnections ?? Driver.defaultDriverOptions.connectionLimits.maxConnections
      },
      ...(options.sendQueueCapacity === undefined ? {} : { sendQueueCapacity: options.sendQueueCapacity }),
      ...(options.sendQueueTimeout === undefined
        ? {}
        : { sendQueueTimeout: Duration.millis(options.sendQueueTimeout) }),
      ...(options.drainTimeout === undefined ? {} : { drainTimeout: Duration.millis(options.drainTimeout) }),
      ...(options.idleConnectionTimeout === undefined
        ? {}
        : { idleConnectionTimeout: Duration.millis(options.idleConnectionTimeout) })
    })
    const capacity = options.subscriptionCapacity ?? 2048
    const maxContent = maxContentSize(config.maxMessageSize, "Swarm")
    const maxNeighborsContent = maxContentSize(config.maxMessageSize, "Neighbors")

    const addAddress = (addr: DialAddr | string) =>
      (typeof addr === "string" ? parseTicket(addr) : Effect.succeed(addr)).pipe(Effect.flatMap(driver.addAddress))
    for (const addr of options.knownAddresses ?? []) yield* Effect.orDie(addAddress(addr))

    const closed = (reason: string) => new Gossip.GossipClosed({ reason })

    const subscribe = (topicBytes: Uint8Array, bootstrap: ReadonlyArray<EndpointId.EndpointId>) =>
      Effect.gen(function*() {
        if (topicBytes.length !== 32) {
          return yield* Effect.dieMessage(`topic id must be 32 bytes, got ${topicBytes.length}`)
        }
        const topic = topicIdFromBytes(topicBytes)
        const subscription = yield* Subscription.make(capacity)
        let open = true
        const ok = yield* driver.subscribe(topic, bootstrap, subscription)
        if (!ok) return yield* closed("gossip node shut down")
        yield* Effect.addFinalizer(() =>
          Effect.suspend(() => {
            open = false
            return driver.unsubscribe(topic, subscription)
          })
        )
        const command = (cmd: Parameters<Driver.Driver["command"]>[1]) =>
          Effect.suspend(() => (open ? driver.command(topic, cmd) : Effect.succeed(false))).pipe(
            Effect.flatMap((accepted) => (accepted ? Effect.void : Effect.fail(closed("subscription closed"))))
          )
        const broadcastWith = (scope: "Swarm" | "Neighbors", max: number) => (content: Uint8Array) =>
          content.length > max
            ? Effect.fail(new Gossip.GossipMessageTooLarge({ size: content.length, max }))
            : command({ _tag: "Broadcast", content: Uint8Array.from(content), scope })
        const handle: Gossip.GossipTopic = {
          broadcast: broadcastWith("Swarm", maxContent),
          broadcastNeighbors: broadcastWith("Neighbors", maxNeighborsContent),
          joinPeers: (peers) => command({ _tag: "Join", peers }),
          neighbors: Effect.sync(() => driver.neighbors(topic)),
          isJoined: Effect.sync(() => driver.neighbors(topic).length > 0),
          joined: Effect.suspend(() => (open ? driver.awaitJoined(topic) : Effect.fail(undefined))).pipe(
            Effect.mapError(() => closed("subscription closed before a neighbour came up"))
          ),
          events: subscription.events
        }
        return handle
      })

    return {
      endpointId: identity.endpointId,
      maxMessageSize: maxContent,
      subscribe,
      addr: endpoint.addr,
      ticket: Effect.map(endpoint.addr, toTicket),
      addAddress,
      addressOf: (peer) =>
        Effect.map(Clock.currentTimeMillis, (now) => Option.fromNullable(driver.book.get(peer, now))),
      stats: driver.stats,
      activePeers: Effect.sync(driver.activePeers),
      openConnections: Effect.sync(driver.openConnections)
    } satisfies GossipIrohService
  })

/** The address book as core's `PeerAddresses`: addresses travel as endpoint tickets. */
export const peerAddresses = (service: GossipIrohService): PeerAddresses.PeerAddressesService => ({
  // The book holds what peers told us; an entry the ticket encoder rejects is simply not offered.
  addressOf: (peer) =>
    Effect.flatMap(
      service.addressOf(peer),
      (addr) => Option.isNone(addr) ? Effect.succeedNone : Effect.option(Effect.try(() => toTicket(addr.value)))
    ),
  learn: (ticket) =>
    service.addAddress(ticket).pipe(
      Effect.as(true),
      Effect.catchAll(() => Effect.succeed(false))
    )
})

/**
 * Provides `Gossip` (the core contract), `GossipIroh` (its extras) and `PeerAddresses` (for a peer cache),
 * needing the node's `NodeIdentity`.
 */
export const layer = (
  options: GossipIrohOptions = {}
): Layer.Layer<
  Gossip.Gossip | GossipIroh | PeerAddresses.PeerAddresses,
  EndpointBindError,
  NodeIdentity.NodeIdentity
> =>
  Layer.scopedContext(
    Effect.map(make(options), (service) =>
      Context.make(Gossip.Gossip, service).pipe(
        Context.add(GossipIroh, service),
        Context.add(PeerAddresses.PeerAddresses, peerAddresses(service))
      ))
  )
