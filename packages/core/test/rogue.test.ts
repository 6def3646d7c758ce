/**
 * A rogue who knows the topic NAME but not the secret (issue 10 item 6): it can sign into every compatible slot,
 * since their keys derive from the name alone, and storing nodes keep one value per target. Holding the slots
 * first (first-writer-wins nodes) or rewriting them with junk every 0.5 s (last-writer-wins nodes) starved
 * discovery; with private slots (keys that need the secret, PROTOCOL.md "Private slots") honest nodes must still
 * join; also when the rogue stores its junk with seq 0, so that every honest put (cas = i64::MAX) fails with a CAS
 * mismatch on either kind of storing node. Memory DHT, virtual time (support/virtualTime.ts).
 */
import { Bep44, Config, Crypto, Dht, Keys, Topic } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { Clock, Effect, Layer, type Scope } from "effect"
import { describe, expect, it } from "vitest"
import { signedSlotItem } from "./support/records.js"
import { SECRET, TOPIC } from "./support/sim.js"
import * as VT from "./support/virtualTime.js"

const slots = new Map<bigint, Keys.Slot>()
const slotOf = (minute: bigint) => {
  let slot = slots.get(minute)
  if (slot === undefined) slots.set(minute, slot = Keys.slot(TOPIC.hash, minute))
  return slot
}

/** Signed junk for the compatible slot of `minute`: all a name-only rogue can write. Fresh bytes each time. */
let junkCounter = 0
const junk = (minute: bigint, seq = Bep44.SEQ_I64_MAX): Dht.MutableItem => {
  const slot = slotOf(minute)
  const value = new Uint8Array(600).fill(++junkCounter & 0xff)
  new DataView(value.buffer).setUint32(0, junkCounter)
  return signedSlotItem(slot, value, seq)
}

const currentMinute = Effect.map(Clock.currentTimeMillis, Keys.unixMinuteOf)

/** Two honest nodes (the default config, private slots on) joining while `rogue` runs; simulated ms until both joined, or -1. */
const joinUnder = (
  rules: MemoryDht.StorageRule,
  rogue: (dht: Dht.DhtService) => Effect.Effect<void, unknown, Scope.Scope>,
  config: Config.Config = Config.defaults
) =>
  VT.run(Effect.gen(function*() {
    const sim = yield* SimNetwork.make({ dht: { rules, latency: "20 millis", latencyJitter: "30 millis" } })
    const rogueDht = Dht.make(MemoryDht.transport(sim.dht, "rogue"))
    yield* rogue(rogueDht)
    const join = (index: number) =>
      Effect.flatMap(Layer.build(Layer.merge(sim.node(index), Crypto.layerNode)), (context) =>
        Effect.provide(Topic.joinNoWait(TOPIC, { secret: SECRET, config }), context))
    const a = yield* join(0)
    yield* Effect.sleep("1 second")
    const b = yield* join(1)
    return yield* VT.until(
      Effect.zipWith(a.isJoined, b.isJoined, (x, y) =>
        x && y),
      "60 seconds"
    )
  }))

/** The rogue of a first-writer-wins network: the coming minutes' compatible slots, written once, before anyone. */
const holdSlots = (dht: Dht.DhtService) =>
  Effect.gen(function*() {
    const now = yield* currentMinute
    for (let m = now - 1n; m <= now + 3n; m++) yield* dht.putMutable(junk(m), { cas: Bep44.SEQ_I64_MAX })
  })

/** The rogue of a last-writer-wins network: the previous, current and next compatible slots, rewritten every 0.5 s. */
const rewriteSlots = (dht: Dht.DhtService) => {
  const rewrite = Effect.gen(function*() {
    const now = yield* currentMinute
    yield* Effect.forEach(
      [now - 1n, now, now + 1n],
      (m) => Effect.ignore(dht.putMutable(junk(m), { cas: Bep44.SEQ_I64_MAX })),
      {
        concurrency: 3,
        discard: true
      }
    )
  })
  // Bounded: 3 simulated minutes of rewriting, more than the test waits.
  return Effect.asVoid(Effect.forkScoped(Effect.repeatN(Effect.zipRight(rewrite, Effect.sleep("500 millis")), 360)))
}

/** Junk with seq 0 in the coming minutes' slots: every honest put (cas = i64::MAX) then fails with CAS mismatch. */
const lowSeqSlots = (dht: Dht.DhtService) =>
  Effect.gen(function*() {
    const now = yield* currentMinute
    for (let m = now - 1n; m <= now + 3n; m++) yield* dht.putMutable(junk(m, 0n))
  })

/** Compatible slots only (built when used: the field does not exist without private slots). */
const compatibleOnly = () => Config.decodeSync({ bootstrap: { privateSlots: false } })

describe("a name-only rogue cannot stop discovery", () => {
  it(
    "first-writer-wins storing nodes, the coming minutes' compatible slots written by the rogue first: both join",
    async () => {
      const took = await joinUnder("first-writer-wins", holdSlots)
      console.info(`rogue holding the slots: both joined after ${took} ms simulated`)
      expect(took).toBeGreaterThanOrEqual(0)
      expect(took).toBeLessThanOrEqual(30_000)
    },
    60_000
  )

  it("last-writer-wins storing nodes, the compatible slots rewritten with junk every 0.5 s: both join", async () => {
    const took = await joinUnder("last-writer-wins", rewriteSlots)
    console.info(`rogue rewriting the slots: both joined after ${took} ms simulated`)
    expect(took).toBeGreaterThanOrEqual(0)
    expect(took).toBeLessThanOrEqual(30_000)
  }, 60_000)

  it(
    "either storing rule, the coming minutes' compatible slots holding junk with seq 0 (honest puts fail CAS): both join",
    async () => {
      for (const rule of ["last-writer-wins", "first-writer-wins"] as const) {
        const took = await joinUnder(rule, lowSeqSlots)
        expect(took).toBeGreaterThanOrEqual(0)
        expect(took).toBeLessThanOrEqual(30_000)
      }
    },
    60_000
  )

  it(
    "control: with private slots off (compatible slots only, as the Rust crate) every one of these rogues starves discovery",
    async () => {
      expect(await joinUnder("first-writer-wins", holdSlots, compatibleOnly())).toBe(-1)
      expect(await joinUnder("last-writer-wins", rewriteSlots, compatibleOnly())).toBe(-1)
      expect(await joinUnder("last-writer-wins", lowSeqSlots, compatibleOnly())).toBe(-1)
    },
    60_000
  )
})
