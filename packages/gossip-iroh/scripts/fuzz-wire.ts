/**
 * Fuzz campaign for the gossip wire decoders: every decoder gets >= 100k inputs (random bytes and mutations of
 * valid messages). A decoder must never throw; whatever it accepts must re-encode and decode to the same value.
 * Writes bench/results/fuzz-gossip-wire.json. Usage: npm run fuzz:gossip-wire [-- <inputs per decoder> <seed>]
 */
import type { EndpointId } from "@dtt/core"
import { Either, Option } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { isDeepStrictEqual } from "node:util"
import { messageIdOf, seededRng } from "../src/proto/index.js"
import * as Wire from "../src/wire/index.js"

const N = Number(process.argv[2] ?? 100_000)
const SEED = Number(process.argv[3] ?? 1)
const rng = seededRng(SEED)

const randomBytes = (len: number): Uint8Array => {
  const b = new Uint8Array(len)
  for (let i = 0; i < len; i++) b[i] = rng.int(256)
  return b
}

const K1 = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c" as EndpointId.EndpointId
const K2 = "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394" as EndpointId.EndpointId
const addr = Wire.encodeAddrInfo({
  relayUrl: "https://relay.example.com/",
  directAddresses: [Wire.parseSocketAddr("127.0.0.1:4433")!, Wire.parseSocketAddr("[::1]:11204")!]
})

// A corpus of valid encodings to mutate, so the fuzzer gets past the first discriminant bytes.
const messageCorpus: Array<Uint8Array> = (
  [
    Wire.swarm({ _tag: "Join", data: addr }),
    Wire.swarm({ _tag: "Join", data: undefined }),
    Wire.swarm({ _tag: "ForwardJoin", peer: { id: K1, data: addr }, ttl: 6 }),
    Wire.swarm({ _tag: "Shuffle", origin: K1, nodes: [{ id: K2, data: undefined }, { id: K1, data: addr }], ttl: 6 }),
    Wire.swarm({ _tag: "ShuffleReply", nodes: [{ id: K2, data: new Uint8Array(0) }] }),
    Wire.swarm({ _tag: "Neighbor", priority: "Low", data: addr }),
    Wire.swarm({ _tag: "Disconnect", alive: true, respond: false }),
    Wire.gossip({
      _tag: "Gossip",
      id: messageIdOf(new Uint8Array([104, 105])),
      content: new Uint8Array([104, 105]),
      scope: { _tag: "Swarm", round: 200 }
    }),
    Wire.gossip({
      _tag: "Gossip",
      id: messageIdOf(new Uint8Array(0)),
      content: new Uint8Array(0),
      scope: { _tag: "Neighbors" }
    }),
    Wire.gossip({ _tag: "Prune" }),
    Wire.gossip({ _tag: "Graft", id: messageIdOf(new Uint8Array(1)), round: 300 }),
    Wire.gossip({
      _tag: "IHave",
      entries: [{ id: messageIdOf(new Uint8Array(2)), round: 1 }, {
        id: messageIdOf(new Uint8Array(3)),
        round: 70000 % 65536
      }]
    })
  ] as Array<Wire.TopicMessage>
).map((m) => Either.getOrThrow(Wire.encodeTopicMessage(m)))

const addrCorpus = [
  addr,
  Wire.encodeAddrInfo(Wire.emptyAddrInfo),
  Wire.encodeAddrInfo({ relayUrl: undefined, directAddresses: [Wire.parseSocketAddr("[2001:db8::1]:1")!] })
]

const mutate = (base: Uint8Array): Uint8Array => {
  let b = base.slice()
  const ops = 1 + rng.int(4)
  for (let k = 0; k < ops; k++) {
    switch (rng.int(5)) {
      case 0: // flip a byte
        if (b.length > 0) b[rng.int(b.length)] = rng.int(256)
        break
      case 1: // truncate
        b = b.slice(0, rng.int(b.length + 1))
        break
      case 2: // append junk
        b = new Uint8Array([...b, ...randomBytes(rng.int(8))])
        break
      case 3: // set a byte to a boundary value
        if (b.length > 0) b[rng.int(b.length)] = [0, 1, 2, 0x7f, 0x80, 0xff][rng.int(6)]!
        break
      case 4: // insert a byte
        {
          const i = rng.int(b.length + 1)
          b = new Uint8Array([...b.slice(0, i), rng.int(256), ...b.slice(i)])
        }
        break
    }
  }
  return b
}

const input = (corpus: ReadonlyArray<Uint8Array>): Uint8Array =>
  rng.int(2) === 0 ? randomBytes(rng.int(300)) : mutate(corpus[rng.int(corpus.length)]!)

interface Report {
  inputs: number
  accepted: number
  rejected: Record<string, number>
  failures: Array<string>
  ms: number
}

const run = (
  name: string,
  check: (bytes: Uint8Array, r: Report) => void,
  corpus: ReadonlyArray<Uint8Array>
): Report => {
  const report: Report = { inputs: 0, accepted: 0, rejected: {}, failures: [], ms: 0 }
  const t0 = performance.now()
  for (let i = 0; i < N; i++) {
    const bytes = input(corpus)
    report.inputs++
    try {
      check(bytes, report)
    } catch (e) {
      if (report.failures.length < 20) report.failures.push(`${Buffer.from(bytes).toString("hex")}: ${String(e)}`)
    }
  }
  report.ms = Math.round(performance.now() - t0)
  console.log(
    `${name}: ${report.inputs} inputs, ${report.accepted} accepted, ${report.failures.length} failures, ${report.ms} ms`,
    report.rejected
  )
  return report
}

const reject = (r: Report, reason: string) => (r.rejected[reason] = (r.rejected[reason] ?? 0) + 1)

/**
 * The check for one decoder: a refusal must be a typed `WireDecodeError` and is counted by its reason; a decoded
 * value is counted as accepted and handed to `onAccepted`, which throws on a broken round trip or invariant.
 */
const decoding = <A>(
  decode: (bytes: Uint8Array) => Either.Either<A, Wire.WireDecodeError>,
  onAccepted: (value: A, bytes: Uint8Array) => void
) =>
(bytes: Uint8Array, r: Report) => {
  const d = decode(bytes)
  if (Either.isLeft(d)) {
    if (d.left._tag !== "WireDecodeError") throw new Error("untyped error")
    return reject(r, d.left.reason)
  }
  r.accepted++
  onAccepted(d.right, bytes)
}

/** `decode` gives `value` back (deep equality) for `encoded`. */
const decodesBackTo = <A>(decode: (bytes: Uint8Array) => Either.Either<A, unknown>, encoded: Uint8Array, value: A) =>
  isDeepStrictEqual(decode(encoded), Either.right(value))

const results = {
  topicMessage: run(
    "decodeTopicMessage",
    decoding(Wire.decodeTopicMessage, (message, bytes) => {
      const again = Wire.encodeTopicMessage(message)
      if (Either.isLeft(again)) throw new Error(`accepted but cannot re-encode: ${again.left.detail}`)
      if (!decodesBackTo(Wire.decodeTopicMessage, again.right, message)) throw new Error("round trip differs")
      if (again.right.length > bytes.length) throw new Error("canonical encoding longer than the input")
    }),
    messageCorpus
  ),
  addrInfo: run(
    "decodeAddrInfo",
    decoding(Wire.decodeAddrInfo, (info) => {
      if (!decodesBackTo(Wire.decodeAddrInfo, Wire.encodeAddrInfo(info), info)) throw new Error("round trip differs")
      for (const a of info.directAddresses) {
        const back = Wire.parseSocketAddr(Wire.formatSocketAddr(a))
        if (back === undefined || Wire.compareSocketAddr(back, a) !== 0) {
          throw new Error("socket address text round trip")
        }
      }
    }),
    addrCorpus
  ),
  streamHeader: run(
    "decodeStreamHeader",
    decoding(Wire.decodeStreamHeader, (topicId) => {
      if (topicId.length !== 32) throw new Error("topic id not 32 bytes")
    }),
    [new Uint8Array(32).fill(0x17)]
  ),
  frameDecoder: run(
    "FrameDecoder",
    (bytes, r) => {
      // Random chunking of a stream made of valid frames, random bytes and oversized length prefixes.
      const dec = new Wire.FrameDecoder(512)
      const stream = rng.int(2) === 0
        ? bytes
        : new Uint8Array([...Either.getOrThrow(Wire.frame(bytes.slice(0, 300), 512)), ...bytes])
      let pos = 0
      let frames = 0
      let consumed = 0
      for (;;) {
        if (pos < stream.length) {
          const n = 1 + rng.int(64)
          dec.push(stream.subarray(pos, pos + n))
          pos += n
        }
        const next = dec.next()
        if (Either.isLeft(next)) {
          if (next.left.size <= 512) throw new Error("refused a frame within the limit")
          return reject(r, "FrameTooLarge")
        }
        if (Option.isSome(next.right)) {
          if (next.right.value.length > 512) throw new Error("frame over the limit")
          frames++
          consumed += 4 + next.right.value.length
          continue
        }
        if (pos >= stream.length) break
      }
      if (consumed + dec.pending !== stream.length) throw new Error("bytes lost")
      const end = dec.end()
      if (Either.isLeft(end)) return reject(r, "TruncatedFrame")
      if (frames > 0) r.accepted++
      else reject(r, "NoFrame")
    },
    messageCorpus
  )
}

const failures = Object.values(results).reduce((a, r) => a + r.failures.length, 0)
mkdirSync("bench/results", { recursive: true })
writeFileSync(
  "bench/results/fuzz-gossip-wire.json",
  JSON.stringify(
    { date: new Date().toISOString(), seed: SEED, inputsPerDecoder: N, node: process.version, failures, results },
    null,
    2
  ) + "\n"
)
console.log(failures === 0 ? "no failures" : `${failures} FAILURES`)
process.exit(failures === 0 ? 0 : 1)
