// The storing-node rules, driven directly (no sockets): BEP44 validation with its error codes, write tokens,
// the last-writer-wins / first-writer-wins difference, and the storage bound.
import { Bep44 } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Bencode, Krpc } from "../src/index.js"
import { decodeNodes } from "../src/internal/address.js"
import * as Item from "../src/internal/item.js"
import * as RoutingTable from "../src/internal/routingTable.js"
import * as Server from "../src/internal/server.js"
import { bytesOf, seedOf, signItem } from "./helpers.js"

const from = { host: "127.0.0.9", port: 4000 }
const requesterId = new Uint8Array(20).fill(7)

const makeServer = (rule: Server.StoreRule, maxItems = 100) => {
  const localId = new Uint8Array(20).fill(1)
  const table = RoutingTable.make(localId, { host: "127.0.0.1", port: 1 })
  for (let i = 2; i < 30; i++) table.add({ id: new Uint8Array(20).fill(i), host: "127.0.0.1", port: 1000 + i })
  return Server.make({ localId, table, rule, maxItems, k: 20, verify: Item.nobleVerifyStrict, secret: bytesOf("s1") })
}

const query = (method: string, args: Record<string, Bencode.Value | undefined>): Krpc.Query => ({
  _tag: "Query",
  transactionId: bytesOf("tt"),
  method,
  args: Bencode.dict({ id: requesterId, ...args }),
  readOnly: false
})

const tokenOf = (server: Server.Server, target: Uint8Array, at = from) => {
  const reply = server.handle(query("get", { target }), at)
  if (reply._tag !== "Response") throw new Error("get failed")
  return Krpc.bytes(reply.body, "token")!
}

const putArgs = (item: ReturnType<typeof signItem>, token: Uint8Array, cas?: bigint) => ({
  token,
  k: item.publicKey,
  salt: item.salt.length > 0 ? item.salt : undefined,
  seq: item.seq,
  sig: item.signature,
  v: item.value,
  cas
})

const put = (server: Server.Server, item: ReturnType<typeof signItem>, cas?: bigint, at = from) => {
  const target = Bep44.target(item.publicKey, item.salt)
  return server.handle(query("put", putArgs(item, tokenOf(server, target, at), cas)), at)
}

const errorCode = (reply: ReturnType<Server.Server["handle"]>) => (reply._tag === "Error" ? reply.code : "ok")

describe("storing node", () => {
  const salt = bytesOf("slot")
  const writers = [1, 2, 3].map((n) => signItem(seedOf(9), salt, bytesOf(`value from writer ${n}`)))
  const target = Bep44.target(writers[0]!.publicKey, salt)

  it("last-writer-wins overwrites on equal seq (Rust mainline); first-writer-wins keeps the first (libtorrent)", () => {
    const lww = makeServer("last-writer-wins")
    const fww = makeServer("first-writer-wins")
    for (const w of writers) {
      expect(errorCode(put(lww, w, Bep44.SEQ_I64_MAX))).toBe("ok")
      expect(errorCode(put(fww, w, Bep44.SEQ_I64_MAX))).toBe("ok") // acknowledged, even when not stored
    }
    expect(lww.stored(target)?.value).toEqual(writers[2]!.value)
    expect(fww.stored(target)?.value).toEqual(writers[0]!.value)
  })

  it("both rules store a strictly greater seq and refuse a lower one with 302", () => {
    for (const rule of ["last-writer-wins", "first-writer-wins"] as const) {
      const server = makeServer(rule)
      const key = seedOf(3)
      expect(errorCode(put(server, signItem(key, salt, bytesOf("five"), 5n)))).toBe("ok")
      expect(errorCode(put(server, signItem(key, salt, bytesOf("six"), 6n)))).toBe("ok")
      const t = Bep44.target(signItem(key, salt, bytesOf("x")).publicKey, salt)
      expect(server.stored(t)?.value).toEqual(bytesOf("six"))
      expect(errorCode(put(server, signItem(key, salt, bytesOf("four"), 4n)))).toBe(302)
      expect(errorCode(put(server, signItem(key, salt, bytesOf("seven"), 7n), 5n))).toBe(301) // CAS mismatch
      expect(errorCode(put(server, signItem(key, salt, bytesOf("seven"), 7n), 6n))).toBe("ok")
      expect(server.stored(t)?.seq).toBe(7n)
    }
  })

  it("enforces BEP44 limits and checks with their error codes", () => {
    const server = makeServer("last-writer-wins")
    const big = signItem(seedOf(4), salt, new Uint8Array(1001))
    expect(errorCode(put(server, big))).toBe(205)
    expect(errorCode(put(server, signItem(seedOf(4), salt, new Uint8Array(1000))))).toBe("ok")
    expect(errorCode(put(server, signItem(seedOf(4), new Uint8Array(65), bytesOf("v"))))).toBe(207)
    expect(errorCode(put(server, signItem(seedOf(4), new Uint8Array(64), bytesOf("v"))))).toBe("ok")
    const good = signItem(seedOf(5), salt, bytesOf("signed"))
    const forged = { ...good, value: bytesOf("tampered") }
    expect(errorCode(put(server, forged))).toBe(206)
    expect(server.stored(Bep44.target(good.publicKey, salt))).toBeUndefined()
    // Token from another IP, or none at all: 203.
    const token = tokenOf(server, target, { host: "127.0.0.10", port: 1 })
    expect(errorCode(server.handle(query("put", putArgs(good, token)), from))).toBe(203)
    expect(errorCode(server.handle(query("put", { ...putArgs(good, token), token: undefined }), from))).toBe(203)
    // Malformed arguments: 203; unknown method: 204.
    expect(errorCode(server.handle(query("put", { ...putArgs(good, tokenOf(server, target)), seq: 2n ** 63n }), from)))
      .toBe(203)
    expect(errorCode(server.handle(query("put", { ...putArgs(good, tokenOf(server, target)), v: [1n] }), from))).toBe(
      203
    )
    expect(errorCode(server.handle(query("get", { target: new Uint8Array(19) }), from))).toBe(203)
    expect(errorCode(server.handle({ ...query("ping", {}), args: Bencode.dict({ id: new Uint8Array(3) }) }, from)))
      .toBe(203)
    expect(errorCode(server.handle(query("vote", {}), from))).toBe(204)
  })

  it("tokens survive one secret rotation, not two", () => {
    const server = makeServer("last-writer-wins")
    const item = signItem(seedOf(6), salt, bytesOf("v"))
    const t = Bep44.target(item.publicKey, salt)
    const token = tokenOf(server, t)
    server.rotateSecret(bytesOf("s2"))
    expect(errorCode(server.handle(query("put", putArgs(item, token)), from))).toBe("ok")
    server.rotateSecret(bytesOf("s3"))
    expect(errorCode(server.handle(query("put", putArgs(item, token)), from))).toBe(203)
  })

  it("get returns the stored item with its exact seq, omits it when not newer than the asked seq, and lists close nodes", () => {
    const server = makeServer("last-writer-wins")
    const item = signItem(seedOf(7), salt, bytesOf("hello"))
    put(server, item)
    const t = Bep44.target(item.publicKey, salt)
    const reply = server.handle(query("get", { target: t }), from)
    if (reply._tag !== "Response") throw new Error("expected a response")
    expect(Krpc.i64(reply.body, "seq")).toBe(Bep44.SEQ_I64_MAX)
    expect(Item.fromGetReply(reply.body, salt)).toEqual(item)
    expect(decodeNodes(Krpc.bytes(reply.body, "nodes")!, 100)).toHaveLength(20)
    const notNewer = server.handle(query("get", { target: t, seq: Bep44.SEQ_I64_MAX }), from)
    if (notNewer._tag !== "Response") throw new Error("expected a response")
    expect(notNewer.body.has("v")).toBe(false)
    expect(Krpc.i64(notNewer.body, "seq")).toBe(Bep44.SEQ_I64_MAX)
  })

  it("keeps at most maxItems, evicting the least recently written", () => {
    const server = makeServer("last-writer-wins", 3)
    const items = [1, 2, 3, 4].map((n) => signItem(seedOf(20 + n), salt, bytesOf(`v${n}`)))
    for (const item of items) expect(errorCode(put(server, item))).toBe("ok")
    expect(server.size()).toBe(3)
    expect(server.stored(Bep44.target(items[0]!.publicKey, salt))).toBeUndefined()
    expect(server.stored(Bep44.target(items[3]!.publicKey, salt))).toBeDefined()
  })
})
