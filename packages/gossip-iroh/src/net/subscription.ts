/**
 * One consumer's view of a topic: a bounded event buffer that never blocks the driver. When the consumer falls
 * `capacity` events behind, the OLDEST buffered events are dropped and counted; the consumer's next read is one
 * `Lagged` with that count, then the newest events, and it keeps receiving (the order iroh-gossip's broadcast
 * channel gives, spec iroh-gossip.md §4; the memory double and core's fan-out behave the same).
 */
import { Gossip } from "@dtt/core"
import { Effect, Option, Stream } from "effect"
import type { Event } from "../proto/events.js"
import type { Subscriber } from "./driver.js"

type GossipEvent = Gossip.GossipEvent
type GossipClosed = Gossip.GossipClosed

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
  Effect.sync(() => {
    const items: Array<GossipEvent> = []
    let head = 0
    let missed = 0
    let ended: "unsubscribed" | "shutdown" | undefined
    let waiter: (() => void) | undefined

    const wake = () => {
      const w = waiter
      waiter = undefined
      w?.()
    }

    const offer = (event: Event) => {
      if (ended !== undefined) return
      if (items.length - head >= capacity) {
        head++
        missed++
      }
      items.push(toGossipEvent(event))
      // Compact now and then so the array does not grow with everything ever read.
      if (head > 1024 && head * 2 > items.length) {
        items.splice(0, head)
        head = 0
      }
      wake()
    }

    const end = (reason: "unsubscribed" | "shutdown") => {
      if (ended !== undefined) return
      ended = reason
      wake()
    }

    const poll = (): Effect.Effect<GossipEvent, Option.Option<GossipClosed>> | undefined => {
      if (missed > 0) {
        const lagged: GossipEvent = { _tag: "Lagged", missed }
        missed = 0
        return Effect.succeed(lagged)
      }
      if (head < items.length) {
        const event = items[head]!
        items[head++] = undefined as never
        if (head === items.length) items.length = head = 0
        return Effect.succeed(event)
      }
      if (ended === "shutdown") {
        return Effect.fail(Option.some(new Gossip.GossipClosed({ reason: "gossip node shut down" })))
      }
      if (ended === "unsubscribed") return Effect.fail(Option.none())
      return undefined
    }

    const next: Effect.Effect<GossipEvent, Option.Option<GossipClosed>> = Effect.suspend(
      () =>
        poll() ??
          Effect.async<void>((resume) => {
            waiter = () => resume(Effect.void)
            return Effect.sync(() => {
              waiter = undefined
            })
          }).pipe(Effect.zipRight(next))
    )

    return { offer, end, events: Stream.repeatEffectOption(next) }
  })
