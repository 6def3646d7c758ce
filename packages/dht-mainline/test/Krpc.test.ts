import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { Bencode, Krpc } from "../src/index.js"
import { decodeNodes, encodeNodes } from "../src/internal/address.js"
import { bytesOf, fromHex } from "./helpers.js"

const text = (b: Uint8Array) => Buffer.from(b).toString("latin1")

describe("KRPC messages", () => {
  it("encodes a BEP5 ping query and a response byte for byte", () => {
    const id = bytesOf("abcdefghij0123456789")
    expect(text(Krpc.encodeQuery(bytesOf("aa"), "ping", Bencode.dict({ id }), false))).toBe(
      "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
    )
    expect(text(Krpc.encodeResponse(bytesOf("aa"), Bencode.dict({ id: bytesOf("mnopqrstuvwxyz123456") })))).toBe(
      "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re"
    )
    expect(text(Krpc.encodeError(bytesOf("aa"), 201, "A Generic Error Ocurred"))).toBe(
      "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"
    )
    // Read-only clients (BEP43) flag every query.
    expect(text(Krpc.encodeQuery(bytesOf("aa"), "ping", Bencode.dict({ id }), true))).toContain("2:roi1e")
  })

  it("parses queries, responses and errors", () => {
    const q = Either.getOrThrow(Krpc.parse(bytesOf("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q2:roi1ee")))
    expect(q).toMatchObject({ _tag: "Query", method: "ping", readOnly: true })
    const r = Either.getOrThrow(Krpc.parse(bytesOf("d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:r1:v4:LT01e")))
    expect(r._tag).toBe("Response")
    const e = Either.getOrThrow(Krpc.parse(bytesOf("d1:eli302e3:lowe1:t2:aa1:y1:ee")))
    expect(e).toMatchObject({ _tag: "ErrorReply", code: 302, message: "low" })
  })

  it("rejects what is not a KRPC message with a typed error", () => {
    for (
      const bad of [
        "i1e",
        "de",
        "d1:t0:1:y1:qe",
        "d1:t2:aa1:y1:xe",
        "d1:t2:aa1:y1:q1:q4:pinge",
        "d1:t2:aa1:y1:re",
        "d1:t2:aa1:y1:e1:ei1ee",
        "junk"
      ]
    ) {
      const r = Krpc.parse(bytesOf(bad))
      expect(Either.isLeft(r), bad).toBe(true)
      if (Either.isLeft(r)) expect(r.left._tag).toBe("KrpcError")
    }
    expect(Either.isLeft(Krpc.parse(new Uint8Array(Krpc.MAX_DATAGRAM_BYTES + 1)))).toBe(true)
  })

  it("reads seq only within the signed 64-bit range", () => {
    const d = (n: bigint) => Bencode.dict({ seq: n })
    expect(Krpc.i64(d(9223372036854775807n), "seq")).toBe(9223372036854775807n)
    expect(Krpc.i64(d(-9223372036854775808n), "seq")).toBe(-9223372036854775808n)
    expect(Krpc.i64(d(9223372036854775808n), "seq")).toBeUndefined()
  })

  it("compact node info is 26 bytes: id, IPv4, big-endian port", () => {
    const id = fromHex("0102030405060708090a0b0c0d0e0f1011121314")
    const bytes = encodeNodes([{ id, host: "127.0.0.1", port: 6881 }])
    expect(Buffer.from(bytes).toString("hex")).toBe("0102030405060708090a0b0c0d0e0f10111213147f0000011ae1")
    expect(decodeNodes(bytes, 10)).toEqual([{ id, host: "127.0.0.1", port: 6881 }])
    expect(decodeNodes(bytes.subarray(0, 25), 10)).toEqual([]) // not a multiple of 26
    expect(decodeNodes(new Uint8Array(26), 10)).toEqual([]) // port 0 / 0.0.0.0 skipped
  })
})

describe("routing table", () => {
  it("keeps the closest nodes, exactly ordered, and one id per address", async () => {
    const { make } = await import("../src/internal/routingTable.js")
    const local = new Uint8Array(20)
    const table = make(local, { host: "127.0.0.1", port: 1 })
    const idOf = (n: number) => {
      const id = new Uint8Array(20)
      id[0] = n
      id[19] = 1
      return id
    }
    for (let n = 1; n <= 40; n++) table.add({ id: idOf(n), host: "127.0.0.2", port: 1000 + n })
    table.add({ id: idOf(200), host: "127.0.0.2", port: 1001 }) // same address, another id: ignored
    table.add({ id: idOf(201), host: "127.0.0.1", port: 1 }) // ourselves: ignored
    expect(table.size()).toBe(40)
    const target = idOf(3)
    expect(table.closest(target, 4).map((n) => n.id[0])).toEqual([3, 2, 1, 7])
    table.remove(idOf(1))
    table.add({ id: idOf(202), host: "127.0.0.2", port: 1001 }) // the address is free again
    expect(table.size()).toBe(40)
  })
})
