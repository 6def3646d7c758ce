// Stand-ins for napi's Connection and for our NetEndpoint: deterministic tests of the send side and the driver.
import type { EndpointId } from "@dtt/core"
import { Effect, Option, Queue } from "effect"
import type { AcceptedConnection, NetEndpoint } from "../src/net/endpoint.js"
import { DialError } from "../src/net/errors.js"
import type * as Iroh from "../src/net/iroh.js"

const never = <A>() => new Promise<A>(() => undefined)

/** A napi Connection look-alike: records every uni stream and every `writeAll`; `closed()` resolves on demand. */
export const fakeConnection = (options: { readonly failWrites?: boolean } = {}) => {
  const streams: Array<{ writes: Array<Uint8Array>; finished: boolean }> = []
  const closes: Array<string> = []
  let resolveClosed: (reason: string) => void = () => undefined
  const closedPromise = new Promise<string>((resolve) => (resolveClosed = resolve))
  const raw = {
    openUni: async () => {
      const record = { writes: [] as Array<Uint8Array>, finished: false }
      streams.push(record)
      return {
        writeAll: async (bytes: Array<number>) => {
          if (options.failWrites === true) throw new Error("ConnectionLost(TimedOut)")
          record.writes.push(new Uint8Array(bytes))
        },
        finish: async () => void (record.finished = true),
        stopped: async () => null
      }
    },
    acceptUni: () => never(),
    closed: () => closedPromise,
    close: (_code: bigint, reason: Array<number>) => void closes.push(new TextDecoder().decode(new Uint8Array(reason)))
  }
  return { raw: raw as unknown as Iroh.Connection, streams, closes, resolveClosed }
}

/**
 * An endpoint that never dials (every dial fails) and accepts exactly the connections a test pushes into
 * `incoming`.
 */
export const fakeEndpoint = (id: EndpointId.EndpointId) =>
  Effect.map(Queue.unbounded<AcceptedConnection>(), (incoming) => {
    const endpoint: NetEndpoint = {
      id,
      alpn: new TextEncoder().encode("/iroh-gossip/1"),
      canLookupById: false,
      addr: Effect.succeed({ id, relayUrl: undefined, directAddresses: [] }),
      accepted: incoming,
      dial: (addr) => Effect.fail(new DialError({ peer: addr.id, reason: "Failed", detail: "fake endpoint" })),
      remoteAddr: () => Effect.succeed(Option.none())
    }
    return { endpoint, incoming }
  })
