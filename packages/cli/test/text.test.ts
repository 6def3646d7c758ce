/** The text helpers: durations typed by people, untrusted payloads made printable, host:port, components. */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Option } from "effect"
import { componentSizes } from "../src/internal/graph.js"
import { isHostPort, MAX_PRINTED_CHARS, parseDuration, printable } from "../src/internal/text.js"

const ms = (s: string) => Option.map(parseDuration(s), Duration.toMillis)

describe("parseDuration", () => {
  it("reads units, combinations and bare seconds", () => {
    expect(ms("60s")).toEqual(Option.some(60_000))
    expect(ms("1500ms")).toEqual(Option.some(1500))
    expect(ms("2m")).toEqual(Option.some(120_000))
    expect(ms("1h")).toEqual(Option.some(3_600_000))
    expect(ms("1m30s")).toEqual(Option.some(90_000))
    expect(ms(" 2.5S ")).toEqual(Option.some(2500))
    expect(ms("45")).toEqual(Option.some(45_000))
  })
  it("rejects zero, negatives, unknown units and junk", () => {
    for (const bad of ["0", "0s", "-5s", "5 parsecs", "s", "", "1e3", "soon", "10d"]) {
      expect(ms(bad), bad).toEqual(Option.none())
    }
  })
})

describe("printable", () => {
  const bytes = (s: string) => new TextEncoder().encode(s)
  it("keeps ordinary text and tabs", () => {
    expect(printable(bytes("héllo\twörld ✓"))).toBe("héllo\twörld ✓")
  })
  it("neutralises terminal escapes, line breaks, C1 controls and Unicode line separators", () => {
    expect(printable(bytes("\u001b[31mred\u001b[0m"))).toBe("\ufffd[31mred\ufffd[0m")
    expect(printable(bytes("a\nb\rc\u0085d\u2028e\u0000f\u007f"))).toBe("a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffd")
  })
  it("shows invalid UTF-8 as U+FFFD and cuts long payloads", () => {
    expect(printable(Uint8Array.of(0x68, 0xff, 0xfe, 0x69))).toBe("h\ufffd\ufffdi")
    const long = printable(new Uint8Array(4096).fill(0x61))
    expect(long).toBe(`${"a".repeat(MAX_PRINTED_CHARS)}…`)
  })
})

describe("isHostPort", () => {
  it("accepts host:port with a port in 1-65535 and nothing else", () => {
    for (const ok of ["127.0.0.1:6881", "localhost:1", "router.bittorrent.com:6881", "10.0.0.1:65535"]) {
      expect(isHostPort(ok), ok).toBe(true)
    }
    for (const bad of ["127.0.0.1", ":6881", "host:0", "host:65536", "host:12ab", "host:", "host:-1", "host: 80"]) {
      expect(isHostPort(bad), bad).toBe(false)
    }
  })
})

describe("componentSizes", () => {
  it("treats edges as undirected, ignores peers outside the graph, sorts largest first", () => {
    const g = new Map<string, ReadonlyArray<string>>([
      ["a", ["b"]],
      ["b", []],
      ["c", ["d", "stranger"]],
      ["d", ["e"]],
      ["e", []],
      ["f", []]
    ])
    expect(componentSizes(g)).toEqual([3, 2, 1])
    expect(componentSizes(new Map())).toEqual([])
  })
})
