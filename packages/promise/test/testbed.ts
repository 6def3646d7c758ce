/**
 * A private mainline DHT on 127.0.0.1 for the tests, and node options that keep every socket on loopback
 * (no relays, no number0 lookups, DHT bootstrap = the testbed only).
 * No vitest import here: the README fixture runs this file in a plain Node process, and the measurement scripts
 * (scripts/burst.ts and others) import its compiled form from dist/test.
 */
import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { Effect, Exit, Scope } from "effect"
import { createSocket } from "node:dgram"
import type { NodeOptions } from "../src/index.js"

export interface LoopbackDht {
  readonly bootstrap: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

export const startTestbed = async (size = 8): Promise<LoopbackDht> => {
  const scope = Effect.runSync(Scope.make())
  const bed = await Effect.runPromise(
    Testbed.make({ size }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode))
  )
  return { bootstrap: bed.bootstrap, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** What the node options need of a testbed: its bootstrap addresses. */
export interface Bootstrap {
  readonly bootstrap: ReadonlyArray<string>
}

/** A loopback UDP port nobody listens on any more: a DHT bootstrap that never answers. */
export const closedPort = async (): Promise<number> => {
  const socket = createSocket("udp4")
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve))
  const port = socket.address().port
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

export const loopbackOptions = (dht: Bootstrap, extra: NodeOptions = {}): NodeOptions => ({
  bootstrap: dht.bootstrap,
  bindAddress: "127.0.0.1",
  gossip: { bindAddress: "127.0.0.1:0", relay: "disabled", preset: "minimal" },
  ...extra
})

/**
 * The libuv handles and timers alive now, counted by kind (`process.getActiveResourcesInfo`).
 * An `Immediate` is left out: it runs on the next turn of the loop whatever happens, so it cannot leak,
 * and one queued by a library at the moment of sampling made the comparison flaky on CI.
 */
export const activeResources = (): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind !== "Immediate") counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

/** The first `count` items of an async iterator, or a rejection after `ms`. */
export const take = async <T>(iterator: AsyncIterator<T>, count: number, ms = 15_000): Promise<Array<T>> => {
  const out: Array<T> = []
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms with ${out.length}/${count} items`)), ms)
  })
  try {
    while (out.length < count) {
      const next = await Promise.race([iterator.next(), deadline])
      if (next.done) break
      out.push(next.value)
    }
    return out
  } finally {
    clearTimeout(timer)
  }
}
