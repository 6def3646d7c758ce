import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "effect/FastCheck"
import { Bencode } from "../src/index.js"
import { bytesOf } from "./helpers.js"

const decodeText = (s: string, limits?: Bencode.DecodeLimits) => Bencode.decode(bytesOf(s), limits)
const encodeText = (v: Bencode.Value) => Buffer.from(Bencode.encode(v)).toString("latin1")

const valueArb: fc.Arbitrary<Bencode.Value> = fc.letrec<{ value: Bencode.Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc
      .array(
        fc.tuple(fc.string({ maxLength: 6 }).map((s) => Buffer.from(s, "utf8").toString("latin1")), tie("value")),
        {
          maxLength: 5
        }
      )
      .map((entries) => new Map(entries))
  )
})).value

describe("Bencode", () => {
  it("keeps 64-bit integers exact (i64::MAX, i64::MIN, beyond)", () => {
    for (const n of [9223372036854775807n, -9223372036854775808n, 2n ** 64n, 0n, -1n]) {
      const bytes = Bencode.encode(n)
      expect(Buffer.from(bytes).toString("latin1")).toBe(`i${n}e`)
      expect(Bencode.decode(bytes)).toEqual(Either.right(n))
    }
  })

  it("encodes known answers canonically (dictionary keys sorted by bytes)", () => {
    const d = new Map<string, Bencode.Value>([
      ["seq", 1n],
      ["v", bytesOf("Hello World!")],
      ["salt", bytesOf("foobar")],
      ["a", [1n, bytesOf("x"), new Map()]]
    ])
    expect(encodeText(d)).toBe("d1:ali1e1:xdee4:salt6:foobar3:seqi1e1:v12:Hello World!e")
    // Byte order, not locale order: upper case sorts before lower case, \xff last.
    expect(encodeText(new Map<string, Bencode.Value>([["b", 1n], ["\xff", 2n], ["B", 3n]]))).toBe(
      "d1:Bi3e1:bi1e1:\xffi2ee"
    )
    expect(encodeText(Bencode.dict({ t: bytesOf("aa"), skipped: undefined }))).toBe("d1:t2:aae")
  })

  it("decodes known answers, binary strings included", () => {
    const bytes = new Uint8Array([...bytesOf("d1:k3:"), 0, 255, 10, ...bytesOf("1:ni-42ee")])
    const decoded = Bencode.decode(bytes)
    expect(decoded).toEqual(
      Either.right(new Map<string, Bencode.Value>([["k", new Uint8Array([0, 255, 10])], ["n", -42n]]))
    )
  })

  it("rejects malformed and non-canonical input with a typed error", () => {
    const bad: Record<string, string> = {
      "": "unexpected end of input",
      i03e: "leading zero",
      "i-0e": "negative zero",
      ie: "expected digits",
      "i-e": "expected digits",
      i1: "unexpected end of input",
      "i1x": "malformed integer",
      "01:a": "leading zero",
      "3:ab": "string longer than the input",
      i1ei2e: "trailing bytes",
      di1ei2ee: "dictionary key is not a string",
      "d1:ai1e1:ai2ee": "duplicate dictionary key",
      l: "unexpected end of input",
      "d1:a": "unexpected end of input",
      x: "unexpected byte 0x78",
      "99999999999999999999:a": "string longer than the input"
    }
    for (const [input, reason] of Object.entries(bad)) {
      const result = decodeText(input)
      expect(Either.isLeft(result), input).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe("BencodeError")
        expect(result.left.reason, input).toBe(reason)
      }
    }
  })

  it("bounds depth, input size and integer length", () => {
    const limits = { maxBytes: 100, maxDepth: 4, maxIntegerDigits: 5 }
    expect(Either.isRight(decodeText("llllee" + "ee", limits))).toBe(true)
    expect(decodeText("lllllee" + "eee", limits)).toMatchObject({ left: { reason: "nesting too deep" } })
    expect(decodeText("i123456e", limits)).toMatchObject({ left: { reason: "integer too long" } })
    expect(decodeText("5:" + "a".repeat(200), limits)).toMatchObject({ left: { reason: "input too large" } })
    // The default limits stop a 60k-deep nesting without exhausting the stack.
    expect(decodeText("l".repeat(60_000))).toMatchObject({ left: { reason: "nesting too deep" } })
  })

  it("round-trips arbitrary values, and decoding its own output is the identity", () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        const bytes = Bencode.encode(v)
        const back = Bencode.decode(bytes)
        expect(Either.isRight(back)).toBe(true)
        expect(Bencode.encode(Either.getOrThrow(back))).toEqual(bytes)
      }),
      { numRuns: 500 }
    )
  })

  it("is total: random and mutated bytes give a value or a BencodeError, never an exception", () => {
    const check = (bytes: Uint8Array) => {
      const r = Bencode.decode(bytes)
      if (Either.isLeft(r)) expect(r.left._tag).toBe("BencodeError")
      else expect(Bencode.decode(Bencode.encode(r.right))).toEqual(r) // valid input is canonical-stable
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 2000 })
    fc.assert(
      fc.property(valueArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
        const bytes = Bencode.encode(v)
        if (bytes.length === 0) return
        const mutated = Uint8Array.from(bytes)
        mutated[at % bytes.length] = byte
        check(mutated)
        check(bytes.subarray(0, at % bytes.length))
      }),
      { numRuns: 2000 }
    )
  })
})
