// A hand-driven UDP peer for tests: it answers KRPC queries with whatever the test wants (forged items, odd
// replies) and records every datagram it receives, so tests can see the exact bytes on the wire.
import { Effect, Either } from "effect"
import * as dgram from "node:dgram"
import { type Bencode, Krpc } from "../src/index.js"

export interface FakeNode {
  readonly address: string
  readonly port: number
  readonly received: Array<Uint8Array>
  readonly send: (bytes: Uint8Array, port: number) => Effect.Effect<void>
}

export type FakeHandler = (query: Krpc.Query) => Bencode.Dict | { readonly error: number } | undefined

export const make = (handler: FakeHandler) =>
  Effect.acquireRelease(
    Effect.async<FakeNode>((resume) => {
      const socket = dgram.createSocket("udp4")
      const received: Array<Uint8Array> = []
      socket.on("message", (msg, rinfo) => {
        received.push(new Uint8Array(msg))
        const parsed = Krpc.parse(new Uint8Array(msg))
        if (Either.isLeft(parsed) || parsed.right._tag !== "Query") return
        const reply = handler(parsed.right)
        if (reply === undefined) return
        const bytes = "error" in reply
          ? Krpc.encodeError(parsed.right.transactionId, reply.error as number, "no")
          : Krpc.encodeResponse(parsed.right.transactionId, reply as Bencode.Dict)
        socket.send(bytes, rinfo.port, rinfo.address)
      })
      socket.bind(0, "127.0.0.1", () => {
        const port = socket.address().port
        resume(
          Effect.succeed(
            {
              address: `127.0.0.1:${port}`,
              port,
              received,
              send: (bytes, to) =>
                Effect.async<void>((done) => socket.send(bytes, to, "127.0.0.1", () => done(Effect.void))),
              close: socket
            } as FakeNode & { close: dgram.Socket }
          )
        )
      })
    }),
    (node) =>
      Effect.async<void>((done) => {
        ;(node as FakeNode & { close: dgram.Socket }).close.close(() => done(Effect.void))
      })
  )
