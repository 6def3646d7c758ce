/**
 * `topic.discoveryEvents()` on the real stack (mainline DHT client, iroh gossip): what a user sees when the DHT
 * does not answer, and how a successful join reads.
 */
import { describe, expect, it } from "vitest"
import { createNode, type DiscoveryEvent } from "../src/index.js"
import { useTestbed } from "./hooks.js"
import { closedPort, loopbackOptions, take } from "./testbed.js"

const SECRET = "discovery-events-secret"

/** Events from `iterator` up to and including the first of `type`, or a rejection after `ms`. */
const until = async (
  iterator: AsyncIterator<DiscoveryEvent>,
  type: DiscoveryEvent["type"],
  ms: number
): Promise<Array<DiscoveryEvent>> => {
  const seen: Array<DiscoveryEvent> = []
  const started = Date.now()
  while (seen.at(-1)?.type !== type) {
    const left = ms - (Date.now() - started)
    if (left <= 0) throw new Error(`no ${type} within ${ms} ms; saw ${seen.map((e) => e.type).join(", ")}`)
    seen.push(...(await take(iterator, 1, left)))
  }
  return seen
}

describe("discoveryEvents", () => {
  const dht = useTestbed()

  it("says dht-unreachable within 15 s when the only bootstrap node does not answer", async () => {
    const node = await createNode(loopbackOptions({ ...dht, bootstrap: [`127.0.0.1:${await closedPort()}`] }))
    try {
      const topic = await node.joinTopic("discovery-events-dead-dht", SECRET, { wait: false })
      const seen = await until(topic.discoveryEvents(), "dht-unreachable", 15_000)
      const unreachable = seen.at(-1)
      expect(unreachable).toMatchObject({ type: "dht-unreachable" })
      if (unreachable?.type !== "dht-unreachable") throw new Error("unreachable")
      expect(unreachable.failedGets).toBeGreaterThanOrEqual(2)
      expect(unreachable.reason.length).toBeGreaterThan(0)
      // Nothing ever answered, so the topic never claims the DHT was reached or anyone joined.
      expect(seen.map((e) => e.type)).not.toContain("dht-bootstrapped")
      expect(seen.map((e) => e.type)).not.toContain("joined")
    } finally {
      await node.close()
    }
  }, 30_000)

  it(
    "a joiner's events replay the join: DHT reached, records opened, the neighbour joined; readers end on close",
    async () => {
      const first = await createNode(loopbackOptions(dht))
      const second = await createNode(loopbackOptions(dht))
      try {
        const name = "discovery-events-join"
        await first.joinTopic(name, SECRET, { wait: false })
        const topic = await second.joinTopic(name, SECRET, { timeoutMs: 25_000 })
        // Subscribed after the join: the replay of the last 64 events still shows how it went.
        const reader = topic.discoveryEvents()
        const seen = await until(reader, "joined", 5_000)
        const types = seen.map((e) => e.type)
        expect(types.indexOf("dht-bootstrapped")).toBeGreaterThanOrEqual(0)
        expect(types.indexOf("dht-bootstrapped")).toBeLessThan(types.indexOf("joined"))
        expect(seen.some((e) => e.type === "records-found" && e.opened > 0)).toBe(true)
        expect(seen.at(-1)).toMatchObject({ type: "joined", neighbor: first.endpointId })
        await topic.close()
        // The reader ends (after what it had buffered) rather than hanging.
        const rest = await take(reader, 1_000, 5_000)
        expect(rest.length).toBeLessThan(1_000)
      } finally {
        await Promise.all([first.close(), second.close()])
      }
    },
    60_000
  )
})
