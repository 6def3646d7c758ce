/** `node.metrics()` on the real stack (mainline DHT client, iroh gossip): a join and a broadcast show up in it. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createNode, type MetricSample } from "../src/index.js"
import { type LoopbackDht, loopbackOptions, startTestbed } from "./testbed.js"

const TOPIC = "promise-metrics"
const SECRET = "metrics-secret"

/** The value of the counter `name` summed over its series that have `tags`, 0 if none was updated. */
const total = (samples: ReadonlyArray<MetricSample>, name: string, tags: Record<string, string> = {}) =>
  samples.reduce(
    (n, s) =>
      s.name === name && s.kind !== "histogram" && Object.entries(tags).every(([k, v]) => s.tags[k] === v)
        ? n + s.value
        : n,
    0
  )

const until = async (what: () => boolean, ms: number) => {
  const end = Date.now() + ms
  while (!what() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
}

describe("node.metrics()", () => {
  let dht: LoopbackDht
  beforeAll(async () => {
    dht = await startTestbed()
  })
  afterAll(() => dht.close())

  it("after two nodes join and one broadcasts: joins, DHT gets, messages out and in", async () => {
    const alice = await createNode(loopbackOptions(dht))
    const bob = await createNode(loopbackOptions(dht))
    try {
      const before = alice.metrics()
      const aliceTopic = await alice.joinTopic(TOPIC, SECRET, { wait: false })
      const bobTopic = await bob.joinTopic(TOPIC, SECRET, { timeoutMs: 20_000 })
      await aliceTopic.joined()
      const received = bobTopic.messages()
      await until(() => aliceTopic.neighbors().includes(bob.endpointId), 5_000)
      await aliceTopic.broadcast("hello, metrics")
      const message = await received.next()
      expect(message.done).toBe(false)
      await until(() => total(alice.metrics(), "dtt_messages_in") > total(before, "dtt_messages_in"), 2_000)

      const after = alice.metrics()
      const grown = (name: string, tags: Record<string, string> = {}) =>
        total(after, name, tags) - total(before, name, tags)
      expect(grown("dtt_joins", { outcome: "joined" })).toBeGreaterThanOrEqual(1)
      expect(grown("dtt_dht_gets")).toBeGreaterThanOrEqual(1)
      expect(grown("dtt_messages_out")).toBeGreaterThanOrEqual(1)
      expect(grown("dtt_bytes_out")).toBeGreaterThanOrEqual("hello, metrics".length)
      expect(grown("dtt_messages_in")).toBeGreaterThanOrEqual(1)
      // Plain data, histograms included.
      const joinDuration = after.find((s) => s.name === "dtt_join_duration_ms")
      expect(joinDuration?.kind === "histogram" && joinDuration.count).toBeGreaterThanOrEqual(1)
      expect(joinDuration?.kind === "histogram" && joinDuration.buckets.at(-1)?.[0]).toBe(Infinity)
      expect(JSON.parse(JSON.stringify(after.filter((s) => s.kind !== "histogram")))).toEqual(
        after.filter((s) => s.kind !== "histogram")
      )
    } finally {
      await Promise.all([alice.close(), bob.close()])
    }
  }, 40_000)
})
