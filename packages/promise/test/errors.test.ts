import { describe, expect, it } from "vitest"
import { createNode, joinTopic, TopicTrackerError } from "../src/index.js"
import { useNode, useTestbed } from "./hooks.js"
import { activeResources, loopbackOptions } from "./testbed.js"

/** The rejection of `promise`, which must be a `TopicTrackerError`. */
const rejection = async (promise: Promise<unknown>): Promise<TopicTrackerError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(TopicTrackerError)
  expect(error).toBeInstanceOf(Error)
  return error as TopicTrackerError
}

describe("bad input rejects with a readable typed error", () => {
  const dht = useTestbed()
  const node = useNode(dht)

  it("createNode: key length, option types, config fields; no socket is left open", async () => {
    const before = activeResources()
    const badKey = await rejection(createNode(loopbackOptions(dht, { secretKey: new Uint8Array(31) })))
    expect(badKey._tag).toBe("InvalidArgument")
    expect(badKey.message).toBe("options.secretKey must be 32 bytes (a Uint8Array), got 31 bytes")
    expect(String(badKey)).toBe("InvalidArgument: options.secretKey must be 32 bytes (a Uint8Array), got 31 bytes")

    const hexKey = await rejection(createNode({ secretKey: "00".repeat(32) as never }))
    expect(hexKey.message).toBe("options.secretKey must be 32 bytes (a Uint8Array), got string")

    expect((await rejection(createNode({ bootstrap: "127.0.0.1:1" as never }))).message).toMatch(
      /^options.bootstrap must be an array/
    )
    expect((await rejection(createNode({ bootstrap: ["no-port"] }))).message).toBe(
      "options.bootstrap[0] must look like \"host:port\", got \"no-port\""
    )
    expect((await rejection(createNode({ gossip: { relay: "sometimes" as never } }))).message).toMatch(
      /^options.gossip.relay must be/
    )
    expect((await rejection(createNode({ gossip: { sendQueueCapacity: 0 } }))).message).toBe(
      "options.gossip.sendQueueCapacity must be an integer in 1..1048576, got number 0"
    )
    expect((await rejection(createNode({ gossip: { drainTimeout: "1s" as never } }))).message).toBe(
      "options.gossip.drainTimeout must be an integer in 0..3600000, got string 1s"
    )
    expect((await rejection(createNode({ gossip: { sendQueueTimeout: -5 } }))).message).toMatch(
      /^options.gossip.sendQueueTimeout must be an integer in 0\.\.3600000/
    )
    expect((await rejection(createNode({ bindadress: "127.0.0.1" } as never))).message).toMatch(
      /^options has no option "bindadress"/
    )

    const config = await rejection(
      createNode(loopbackOptions(dht, { config: { bootstrap: { discoveryPollInterval: -1 } } }))
    )
    expect(config._tag).toBe("InvalidConfig")
    expect(config.message).toMatch(/^invalid options.config.bootstrap.discoveryPollInterval: /)

    // Arguments are checked before anything is bound.
    expect(activeResources()).toEqual(before)
  })

  it("createNode: a gossip bind address that is taken", async () => {
    // A UDP port a testbed DHT node already holds.
    const taken = dht.bootstrap[0]!
    const error = await rejection(
      createNode(loopbackOptions(dht, { gossip: { bindAddress: taken, relay: "disabled", preset: "minimal" } }))
    )
    expect(String(error)).toMatch(/^EndpointBindError: [^:]/)
    expect(error._tag).toBe("EndpointBindError")
    expect(error.message.length).toBeGreaterThan(0)
  })

  it("joinTopic: wrong secret type, bad topic id length, bad options", async () => {
    const secret = await rejection(node().joinTopic("t", 42 as never))
    expect(secret._tag).toBe("InvalidArgument")
    expect(secret.message).toBe("secret must be a string or a Uint8Array, got number")

    const id = await rejection(node().joinTopic(new Uint8Array(16), "s"))
    expect(id.message).toBe("a topic id must be 32 bytes (a topic hash), got 16 bytes; pass a string to join by name")
    expect((await rejection(node().joinTopic(7 as never, "s"))).message).toMatch(/^topic must be a name/)
    expect((await rejection(node().joinTopic("t", "s", { timeoutMs: 0 }))).message).toMatch(
      /^join options.timeoutMs must be a positive number/
    )
    expect((await rejection(node().joinTopic("t", "s", { wait: "yes" as never }))).message).toMatch(
      /^join options.wait must be a boolean/
    )
    expect((await rejection(joinTopic("t", null as never))).message).toBe(
      "secret must be a string or a Uint8Array, got null"
    )
    expect(node().topics()).toEqual([])
  })

  it("broadcast: wrong content type, message too large", async () => {
    const topic = await node().joinTopic("promise-errors", "s", { wait: false })
    try {
      expect((await rejection(topic.broadcast(123 as never))).message).toBe(
        "content must be a Uint8Array or a string, got number"
      )
      const tooLarge = await rejection(topic.broadcast(new Uint8Array(100_000)))
      expect(tooLarge._tag).toBe("GossipMessageTooLarge")
      expect(tooLarge.message).toMatch(/^message of 100000 bytes is larger than the maximum of \d+ bytes$/)
    } finally {
      await topic.close()
    }
  })

  it("a wrong secret never joins: the join times out and the topic is closed", async () => {
    const other = await createNode(loopbackOptions(dht))
    try {
      const right = await other.joinTopic("promise-secret", "the right secret", { wait: false })
      const started = Date.now()
      const error = await rejection(node().joinTopic("promise-secret", "a wrong secret", { timeoutMs: 6_000 }))
      expect(Date.now() - started).toBeGreaterThanOrEqual(5_900)
      expect(error._tag).toBe("JoinTimeout")
      expect(error.message).toMatch(
        /^no peer found within 6s: the DHT answered \(\d+ gets\) but no other node has announced this topic with this secret; the topic was closed$/
      )
      expect(node().topics()).toEqual([])
      // The peer with the right secret saw nobody either.
      expect(right.neighbors()).toEqual([])
      expect(right.isJoined()).toBe(false)
      // The same topic and secret does join (so the timeout above was the secret's doing).
      const joined = await node().joinTopic("promise-secret", "the right secret", { timeoutMs: 20_000 })
      expect(joined.neighbors()).toEqual([other.endpointId])
      await joined.close()
    } finally {
      await other.close()
    }
  })
})
