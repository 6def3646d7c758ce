// Fuzz campaign for the mainline DHT node (not part of `npm test`; run `npm run fuzz:dht [datagrams] [seed]`).
//
// 1. In process: the bencode decoder and the KRPC parser on millions of random and mutated inputs; any
//    exception (instead of a typed error) is a failure.
// 2. Over UDP on 127.0.0.1: ≥ 100k hostile datagrams at two storing nodes and a client of a Testbed; then
//    the nodes must still answer, hold nothing forged, and serve a put and a get.
// Writes bench/results/fuzz-dht.json.
import { Bep44, Crypto } from "@dtt/core"
import { Duration, Effect, Either } from "effect"
import { writeFileSync } from "node:fs"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Bencode, DhtMainline, Krpc, Testbed } from "../src/index.js"
import * as FakeNode from "../test/fakeNode.js"
import { bytesOf, seedOf, signItem } from "../test/helpers.js"
import { barrage, hostileDatagram, rng } from "../test/hostileDatagrams.js"

const DATAGRAMS = Number(process.argv[2] ?? 120_000)
const SEED = Number(process.argv[3] ?? 1)
const IN_PROCESS = DATAGRAMS * 3

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void
/** Live heap after a full collection: growth across the barrage would mean state kept per hostile datagram. */
const liveHeap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const inProcess = () => {
  const r = rng(SEED)
  const start = performance.now()
  const outcome = {
    inputs: 0,
    decodedValues: 0,
    typedErrors: 0,
    exceptions: 0,
    roundTripMismatches: 0,
    krpcMessages: 0
  }
  for (let k = 0; k < IN_PROCESS; k++) {
    const input = hostileDatagram(r)
    outcome.inputs++
    try {
      const decoded = Bencode.decode(input)
      if (Either.isRight(decoded)) {
        outcome.decodedValues++
        const again = Bencode.decode(Bencode.encode(decoded.right))
        if (Either.isLeft(again) || Buffer.compare(Bencode.encode(again.right), Bencode.encode(decoded.right)) !== 0) {
          outcome.roundTripMismatches++
        }
      } else outcome.typedErrors++
      if (Either.isRight(Krpc.parse(input))) outcome.krpcMessages++
    } catch {
      outcome.exceptions++
    }
  }
  return { ...outcome, ms: Math.round(performance.now() - start) }
}

const overUdp = Effect.gen(function*() {
  const bed = yield* Testbed.make({ size: 6, rule: (i) => (i % 2 === 0 ? "last-writer-wins" : "first-writer-wins") })
  const { dht, node: client } = yield* DhtMainline.makeService(
    bed.clientOptions({ dht: { retries: 0, getTimeout: Duration.seconds(10) } })
  )
  const attacker = yield* FakeNode.make(() => undefined)
  const victims = [bed.nodes[0]!, bed.nodes[1]!, client]
  const r = rng(SEED + 1)
  const heapBefore = liveHeap()
  const start = performance.now()
  const received = yield* barrage(attacker.send, victims, DATAGRAMS, r)
  const repliesToAttacker = attacker.received.length
  attacker.received.length = 0 // the attacker's own log of replies is not the victims' memory
  yield* Effect.sleep(Duration.millis(500))
  const ms = Math.round(performance.now() - start)
  const item = signItem(seedOf(123), bytesOf("fuzz"), bytesOf("still alive"))
  const receipt = yield* dht.putMutable(item, { cas: Bep44.SEQ_I64_MAX })
  const got = yield* dht.getMutable(item.publicKey, item.salt)
  const forgedHeld = bed.nodes.reduce((n, node) => n + node.storedCount(), 0) - receipt.storedAt
  return {
    datagramsSent: DATAGRAMS,
    datagramsReceived: received,
    repliesToAttacker,
    ms,
    victims: victims.map((v, i) => ({ role: i < 2 ? `storing node ${i}` : "client", ...v.stats })),
    afterwards: {
      putStoredAt: receipt.storedAt,
      getReturned: got.length,
      getMatches: got.length === 1,
      forgedItemsHeld: forgedHeld
    },
    liveHeapGrowthBytes: liveHeap() - heapBefore
  }
})

const udp = await Effect.runPromise(overUdp.pipe(Effect.scoped, Effect.provide(Crypto.layer)))
const local = inProcess()
const ok = local.exceptions === 0 && local.roundTripMismatches === 0 && udp.afterwards.getMatches &&
  udp.datagramsReceived >= DATAGRAMS * 0.95 && udp.afterwards.forgedItemsHeld === 0
const result = { campaign: "dht-mainline fuzz", date: new Date().toISOString(), seed: SEED, ok, inProcess: local, udp }
console.log(JSON.stringify(result, null, 2))
writeFileSync("bench/results/fuzz-dht.json", JSON.stringify(result, null, 2) + "\n")
process.exit(ok ? 0 : 1)
