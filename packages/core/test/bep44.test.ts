import { describe, expect, it } from "@effect/vitest"
import * as Bep44 from "../src/Bep44.js"
import { toHex, utf8 } from "../src/internal/bytes.js"

describe("Bep44", () => {
  it("signable without salt leaves the salt out (BEP44 test 1 shape)", () => {
    expect(new TextDecoder().decode(Bep44.signable(new Uint8Array(0), 1n, utf8("Hello World!")))).toBe(
      "3:seqi1e1:v12:Hello World!"
    )
  })

  it("seq is printed exactly, i64::MAX included", () => {
    const s = new TextDecoder().decode(Bep44.signable(utf8("ab"), Bep44.SEQ_I64_MAX, utf8("v")))
    expect(s).toBe("4:salt2:ab3:seqi9223372036854775807e1:v1:v")
  })

  it("target is SHA-1(k ‖ salt) (BEP44 test 2)", () => {
    const pk = Uint8Array.from(Buffer.from("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548", "hex"))
    expect(toHex(Bep44.target(pk, utf8("foobar")))).toBe("411eba73b6f087ca51a3795d9c8c938d365e32c1")
  })
})
