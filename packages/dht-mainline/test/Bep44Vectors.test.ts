// BEP44 known answers (spec wire.md §7 S3 and D9): the signable bytes our bencode produces, the target, and
// signature verification through the same item check the client and the storing node use.
import { Bep44, Crypto } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { sha256 } from "@noble/hashes/sha2.js"
import { Either } from "effect"
import { Bencode } from "../src/index.js"
import * as Item from "../src/internal/item.js"
import { bytesOf, fromHex, hex, wireVectors as vectors } from "./helpers.js"

const crypto = Crypto.make("noble")

/** The signable as BEP44 defines it: bencode of {salt?, seq, v} without the outer d...e. */
const signableViaBencode = (salt: Uint8Array, seq: bigint, v: Uint8Array) => {
  const full = Bencode.encode(Bencode.dict({ salt: salt.length > 0 ? salt : undefined, seq, v }))
  return full.subarray(1, full.length - 1)
}

describe("BEP44 vectors", () => {
  it("S3: BEP44 test 2 (mutable, salted) signable, target and signature", () => {
    const pk = fromHex("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548")
    const salt = bytesOf("foobar")
    const v = bytesOf("Hello World!")
    const sig = fromHex(
      "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08"
    )
    const signable = Bep44.signable(salt, 1n, v)
    expect(Buffer.from(signable).toString("latin1")).toBe("4:salt6:foobar3:seqi1e1:v12:Hello World!")
    expect(signableViaBencode(salt, 1n, v)).toEqual(signable)
    const target = Bep44.target(pk, salt)
    expect(hex(target)).toBe("411eba73b6f087ca51a3795d9c8c938d365e32c1")
    const item = { publicKey: pk, salt, seq: 1n, value: v, signature: sig }
    expect(Item.check(item, target, crypto.verifyStrict)).toBeUndefined()
    expect(Item.check(item, target, Item.nobleVerifyStrict)).toBeUndefined()
    // One bit off anywhere and the check names what is wrong.
    expect(Item.check({ ...item, seq: 2n }, target, crypto.verifyStrict)).toBe("bad-signature")
    expect(Item.check({ ...item, salt: bytesOf("foobaz") }, target, crypto.verifyStrict)).toBe("wrong-target")
  })

  it("D9: the distributed-topic-tracker item with seq = i64::MAX", () => {
    const { dht, encryption, bep44 } = vectors
    const salt = fromHex(dht.salt)
    const v = fromHex(encryption.dht_value_hex)
    const pk = fromHex(dht.signing_pub)
    const seq = BigInt(bep44.seq)
    expect(seq).toBe(Bep44.SEQ_I64_MAX)
    const signable = Bep44.signable(salt, seq, v)
    expect(signable.length).toBe(bep44.signable_len)
    expect(hex(sha256(signable))).toBe(bep44.signable_sha256)
    expect(signableViaBencode(salt, seq, v)).toEqual(signable)
    expect(Buffer.from(signable.subarray(0, 9)).toString("latin1")).toBe(bep44.signable_prefix_ascii_before_salt)
    expect(Buffer.from(signable.subarray(41, 41 + 33)).toString("latin1")).toBe(bep44.signable_middle_ascii)
    expect(Bencode.encode(v).length).toBe(bep44.bencoded_v_len)
    const target = Bep44.target(pk, salt)
    expect(hex(target)).toBe(dht.bep44_target_sha1)
    const item = { publicKey: pk, salt, seq, value: v, signature: fromHex(bep44.signature) }
    expect(Item.check(item, target, crypto.verifyStrict)).toBeUndefined()
    // Signing with the D3 seed reproduces the vector's signature (Ed25519 is deterministic).
    expect(hex(crypto.sign(fromHex(dht.signing_seed), signable))).toBe(bep44.signature)
    // 2^63 (what a double-based bencode reads) is out of range; any other seq breaks the signature (spec §6.6).
    expect(Item.check({ ...item, seq: 2n ** 63n }, target, crypto.verifyStrict)).toBe("bad-fields")
    expect(Item.check({ ...item, seq: 9223372036854775806n }, target, crypto.verifyStrict)).toBe("bad-signature")
  })

  it("D9 survives a get reply: decoded from the wire with its exact seq and verified", () => {
    const { dht, encryption, bep44 } = vectors
    const salt = fromHex(dht.salt)
    const reply = Bencode.encode(
      Bencode.dict({
        id: new Uint8Array(20),
        k: fromHex(dht.signing_pub),
        seq: BigInt(bep44.seq),
        sig: fromHex(bep44.signature),
        v: fromHex(encryption.dht_value_hex)
      })
    )
    expect(Buffer.from(reply).toString("latin1")).toContain("3:seqi9223372036854775807e")
    const body = Either.getOrThrow(Bencode.decode(reply)) as Bencode.Dict
    const item = Item.fromGetReply(body, salt)!
    expect(item.seq).toBe(9223372036854775807n)
    expect(Item.check(item, fromHex(dht.bep44_target_sha1), crypto.verifyStrict)).toBeUndefined()
  })
})
