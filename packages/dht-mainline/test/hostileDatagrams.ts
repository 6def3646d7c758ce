// Hostile UDP datagrams for the robustness tests and the fuzz script: random bytes, valid KRPC messages with
// bytes flipped, cut, repeated or spliced, and well-formed bencode with the wrong shapes. Deterministic from
// a seed (xorshift), so a failure can be replayed.
import { Bep44 } from "@dtt/core"
import { Duration, Effect } from "effect"
import { Bencode, Krpc } from "../src/index.js"
import { seedOf, signItem } from "./helpers.js"

export const rng = (seed: number) => {
  let x = seed >>> 0 || 0x9e3779b9
  const next = () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff)
  }
}

const id = new Uint8Array(20).fill(0x42)
const item = signItem(seedOf(99), new TextEncoder().encode("salt"), new Uint8Array(600).fill(7))
const t = new TextEncoder().encode("xy")
const q = (method: string, args: Record<string, Bencode.Value | undefined>) =>
  Krpc.encodeQuery(t, method, Bencode.dict({ id, ...args }), false)

/** Valid messages of every kind a node handles; the mutators start from these. */
export const corpus: ReadonlyArray<Uint8Array> = [
  q("ping", {}),
  q("find_node", { target: id }),
  q("get_peers", { info_hash: id }),
  q("get", { target: Bep44.target(item.publicKey, item.salt) }),
  q("get", { target: id, seq: 5n }),
  q("put", {
    token: new Uint8Array(8),
    k: item.publicKey,
    salt: item.salt,
    seq: item.seq,
    cas: item.seq,
    sig: item.signature,
    v: item.value
  }),
  q("announce_peer", { info_hash: id, port: 6881n, token: new Uint8Array(4) }),
  Krpc.encodeResponse(t, Bencode.dict({ id, nodes: new Uint8Array(26 * 8).fill(1), token: new Uint8Array(4) })),
  Krpc.encodeResponse(t, Bencode.dict({ id, k: item.publicKey, seq: item.seq, sig: item.signature, v: item.value })),
  Krpc.encodeError(t, 201, "generic")
]

const wrongShapes: ReadonlyArray<Bencode.Value> = [
  Bencode.dict({ t, y: Bencode.text("q"), q: Bencode.text("get"), a: [1n, 2n] }),
  Bencode.dict({ t, y: Bencode.text("q"), q: Bencode.text("get"), a: Bencode.dict({ id: 5n, target: id }) }),
  Bencode.dict({
    t,
    y: Bencode.text("q"),
    q: Bencode.text("get"),
    a: Bencode.dict({ id, target: new Uint8Array(19) })
  }),
  Bencode.dict({
    t,
    y: Bencode.text("q"),
    q: Bencode.text("put"),
    a: Bencode.dict({ id, v: Bencode.dict({}), k: id })
  }),
  Bencode.dict({ t, y: Bencode.text("q"), q: Bencode.text("put"), a: Bencode.dict({ id, seq: 10n ** 30n, token: t }) }),
  Bencode.dict({ t, y: Bencode.text("r"), r: Bencode.dict({ id, nodes: new Uint8Array(27) }) }),
  Bencode.dict({ t, y: Bencode.text("r"), r: Bencode.dict({ id, seq: -(10n ** 20n), k: id, sig: id, v: [] }) }),
  Bencode.dict({ t, y: Bencode.text("e"), e: [10n ** 20n, 5n] }),
  Bencode.dict({ t: new Uint8Array(0), y: Bencode.text("q") }),
  [Bencode.dict({})],
  10n ** 40n
]

/** One hostile datagram (at most 1500 bytes). */
export const hostileDatagram = (r: ReturnType<typeof rng>): Uint8Array => {
  const base = corpus[r.int(corpus.length)]!
  switch (r.int(8)) {
    case 0:
      return r.bytes(r.int(1500))
    case 1: {
      const out = Uint8Array.from(base)
      for (let k = 1 + r.int(4); k > 0; k--) out[r.int(out.length)] = r.int(256)
      return out
    }
    case 2:
      return base.subarray(0, r.int(base.length))
    case 3: {
      const at = r.int(base.length)
      return new Uint8Array([...base.subarray(0, at), ...r.bytes(1 + r.int(16)), ...base.subarray(at)]).subarray(
        0,
        1500
      )
    }
    case 4: {
      // Splice two valid messages.
      const other = corpus[r.int(corpus.length)]!
      return new Uint8Array([...base.subarray(0, r.int(base.length)), ...other.subarray(r.int(other.length))]).subarray(
        0,
        1500
      )
    }
    case 5:
      return Bencode.encode(wrongShapes[r.int(wrongShapes.length)]!)
    case 6: {
      // Deep nesting, long digit runs, huge declared lengths.
      const kind = r.int(3)
      const text = kind === 0
        ? "l".repeat(1 + r.int(1400))
        : kind === 1
        ? `i${"9".repeat(1 + r.int(1400))}e`
        : `${"9".repeat(1 + r.int(30))}:x`
      return new TextEncoder().encode(text)
    }
    default: {
      // A valid message with a random transaction id (an unsolicited reply or a query from a stranger).
      const out = Uint8Array.from(base)
      const at = Buffer.from(out).indexOf("1:t2:xy")
      if (at >= 0) out.set(r.bytes(2), at + 5)
      return out
    }
  }
}

/**
 * Sends `count` hostile datagrams round-robin to the victims, in bursts, waiting after each burst until the
 * victims have read what was sent (loopback drops datagrams a busy receiver has no buffer for, and dropped
 * datagrams test nothing). Returns how many the victims received.
 */
export const barrage = (
  send: (bytes: Uint8Array, port: number) => Effect.Effect<void>,
  victims: ReadonlyArray<
    { readonly address: { readonly port: number }; readonly stats: { readonly received: number } }
  >,
  count: number,
  r: ReturnType<typeof rng>,
  burst = 64
) =>
  Effect.gen(function*() {
    const received = () => victims.reduce((n, v) => n + v.stats.received, 0)
    const start = received()
    for (let sent = 0; sent < count;) {
      for (let k = 0; k < burst && sent < count; k++, sent++) {
        yield* send(hostileDatagram(r), victims[sent % victims.length]!.address.port)
      }
      // Wait (up to 100 ms) for the victims to catch up before the next burst.
      for (let wait = 0; wait < 100 && received() - start < sent; wait++) yield* Effect.sleep(Duration.millis(1))
    }
    return received() - start
  })
