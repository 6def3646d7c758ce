/** One subscriber of a topic on a simulated node: its bounded event buffer and the joins waiting for a neighbour. */
import { Gossip } from "@dtt/core"
import { Deferred, Exit } from "effect"
import { EventBuffer } from "./eventBuffer.js"

export class Subscription {
  readonly buffer: EventBuffer<Gossip.GossipEvent>
  readonly joinWaiters = new Set<Deferred.Deferred<void, Gossip.GossipClosed>>()
  closed = false
  constructor(capacity: number) {
    this.buffer = new EventBuffer(capacity)
  }

  close(reason: string): void {
    if (this.closed) return
    this.closed = true
    this.buffer.close()
    for (const waiter of this.joinWaiters) Deferred.unsafeDone(waiter, Exit.fail(new Gossip.GossipClosed({ reason })))
    this.joinWaiters.clear()
  }
}
