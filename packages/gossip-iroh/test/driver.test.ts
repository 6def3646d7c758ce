// The IO driver on a fake endpoint and a scripted protocol: which connection closes count as a disconnect.
import type { EndpointId } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Queue } from "effect"
import * as Driver from "../src/net/driver.js"
import type { InEvent, OutEvent } from "../src/proto/events.js"
import { fakeConnection, fakeEndpoint } from "./fakeIroh.js"
import { eventually, topicOf } from "./netHelpers.js"

const idOf = (byte: number) => Buffer.alloc(32, byte).toString("hex") as EndpointId.EndpointId
const me = idOf(1)
const neighbour = idOf(2)
const stranger = idOf(3)
const topic = Buffer.from(topicOf("driver")).toString("hex")
const subscriber: Driver.Subscriber = { offer: () => undefined, end: () => undefined }

/**
 * Joining makes `neighbour` a neighbour. A broadcast command stands in for our eviction of `neighbour` and
 * `stranger` whose crossing Neighbor reply re-added `neighbour` at once (HyParView's race): the protocol drops
 * their send paths (DisconnectPeer) while `neighbour` stays in the view.
 */
const scriptedProtocol = () => {
  const seen: Array<InEvent> = []
  const protocol: Driver.Protocol = {
    handle: (event): ReadonlyArray<OutEvent> => {
      seen.push(event)
      if (event._tag !== "Command") return []
      if (event.command._tag === "Join") {
        return [{ _tag: "EmitEvent", topic: event.topic, event: { _tag: "NeighborUp", peer: neighbour } }]
      }
      return [
        { _tag: "DisconnectPeer", peer: neighbour },
        { _tag: "DisconnectPeer", peer: stranger }
      ]
    }
  }
  const disconnects = (peer: EndpointId.EndpointId) =>
    seen.filter((e) => e._tag === "PeerDisconnected" && e.peer === peer).length
  return { protocol, disconnects }
}

describe("driver: connection closes", () => {
  it.live("a neighbour without a send path is disconnected when its last connection closes, not before", () =>
    Effect.gen(function*() {
      const { endpoint, incoming } = yield* fakeEndpoint(me)
      const { protocol, disconnects } = scriptedProtocol()
      const driver = yield* Driver.make(endpoint, protocol)
      yield* driver.subscribe(topic, [], subscriber)
      expect(driver.neighbors(topic)).toEqual([neighbour])

      const first = fakeConnection()
      const second = fakeConnection()
      const fromStranger = fakeConnection()
      yield* Queue.offerAll(incoming, [
        { remote: neighbour, connection: first.raw },
        { remote: neighbour, connection: second.raw },
        { remote: stranger, connection: fromStranger.raw }
      ])
      yield* eventually("three connections adopted", () => driver.activePeers().length === 2)
      yield* driver.command(topic, { _tag: "Broadcast", content: new Uint8Array(1), scope: "Swarm" })
      yield* eventually("send paths dropped", () => driver.activePeers().length === 0)
      expect(driver.neighbors(topic)).toEqual([neighbour])

      // Another connection to the neighbour is still open: it may yet talk to us.
      first.resolveClosed("closed by peer")
      yield* eventually("first close handled", () => driver.openConnections() === 2)
      expect(disconnects(neighbour)).toBe(0)
      // A peer no topic lists: its close means nothing to the protocol.
      fromStranger.resolveClosed("closed by peer")
      yield* eventually("stranger's close handled", () => driver.openConnections() === 1)
      expect(disconnects(stranger)).toBe(0)
      // The last connection to a listed neighbour we cannot send to: that neighbour is gone.
      second.resolveClosed("closed by peer")
      yield* eventually("neighbour disconnected", () => disconnects(neighbour) === 1)
    }).pipe(Effect.scoped))
})
