/**
 * One consumer's view of a topic: a bounded event buffer that never blocks the driver. When the consumer falls
 * `capacity` events behind, further events are dropped and a single `Lagged` marks the gap; the consumer then
 * keeps receiving (iroh-gossip's behaviour, spec iroh-gossip.md §4).
 */
import { Effect, Option, Queue, Stream } from "effect"
import { Gossip } from "@dtt/core"
import type { Event } from "../proto/events.js"
import type { Subscriber } from "./driver.js"

const END = Symbol("subscription ended")
type GossipEvent = Gossip.GossipEvent
type GossipClosed = Gossip.GossipClosed

const LAGGED: GossipEvent = { _tag: "Lagged" }

export interface Subscription extends Subscriber {
  readonly events: Stream.Stream<GossipEvent, GossipClosed>
}

const toGossipEvent = (event: Event): GossipEvent => {
  switch (event._tag) {
    case "NeighborUp":
    case "NeighborDown":
      return event
    case "Received":
      return {
        _tag: "Received",
        content: event.content,
        deliveredFrom: event.deliveredFrom,
        scope: event.scope._tag === "Swarm" ? { _tag: "Swarm", hops: event.scope.round } : { _tag: "Neighbors" }
      }
  }
}

export const make = (capacity: number): Effect.Effect<Subscription> =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<GossipEvent | typeof END>()
    let buffered = 0
    let lagMarked = false
    let ended: "unsubscribed" | "shutdown" | undefined

    const offer = (event: Event) => {
      if (ended !== undefined) return
      if (buffered >= capacity) {
        if (!lagMarked) {
          lagMarked = true
          queue.unsafeOffer(LAGGED)
        }
        return
      }
      buffered++
      queue.unsafeOffer(toGossipEvent(event))
    }

    const end = (reason: "unsubscribed" | "shutdown") => {
      if (ended !== undefined) return
      ended = reason
      queue.unsafeOffer(END)
    }

    const next: Effect.Effect<GossipEvent, Option.Option<GossipClosed>> = Effect.flatMap(Queue.take(queue), (item) => {
      if (item === END) {
        return ended === "shutdown"
          ? Effect.fail(Option.some(new Gossip.GossipClosed({ reason: "gossip node shut down" })))
          : Effect.fail(Option.none())
      }
      if (item === LAGGED) lagMarked = false
      else buffered--
      return Effect.succeed(item)
    })

    return { offer, end, events: Stream.repeatEffectOption(next) }
  })

