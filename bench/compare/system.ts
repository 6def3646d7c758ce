/**
 * What a compared system offers a trial: a private loopback DHT, and peers that join one topic on it. The trial
 * code (trial.ts) only speaks this interface, so both systems go through exactly the same steps and clocks.
 */

/** Which start-up behaviour a peer gets. `default`: the system as shipped. `fast`: see each system's file. */
export type Variant = "default" | "fast"

export interface LoopbackDht {
  /** What `createPeer` needs to reach this DHT; JSON, so another process can use it. */
  readonly bootstrap: unknown
  close(): Promise<void>
}

export interface Peer {
  /** Hex public key, as the other peers see it in their neighbour lists. */
  readonly id: string
  /** Resolves once the peer's DHT client has joined the DHT (the "already bootstrapped" state). */
  bootstrapped(): Promise<void>
  /** Start joining the topic; resolves when the join call has returned (not when a peer is found). */
  join(topic: string): Promise<void>
  /** `performance.now()` at the first neighbour / connection on the topic. */
  readonly firstNeighbour: Promise<number>
  /** Hex ids of the current neighbours / connections. */
  neighbours(): ReadonlyArray<string>
  close(): Promise<void>
}

export interface System {
  readonly name: "ours" | "hyperswarm"
  startDht(size: number): Promise<LoopbackDht>
  createPeer(bootstrap: unknown, variant: Variant): Promise<Peer>
}

/** A promise and the function that resolves it. */
export const deferred = <A>() => {
  let resolve!: (a: A) => void
  const promise = new Promise<A>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
