/**
 * Issue 10 through the facade, small versions of `npm run burst` (bench/results/burst.json has the large ones):
 * awaited broadcasts all arrive, and a broadcast awaited just before `node.close()` still reaches the neighbour.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createNode, type Node, type Topic, type TopicEvent } from "../src/index.js"
import { type LoopbackDht, loopbackOptions, startTestbed } from "./testbed.js"

const TOPIC = "promise-delivery"
const SECRET = "delivery-secret"
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Reads every event of `events` in the background: message texts and the lag it was told about. */
const record = (events: AsyncIterableIterator<TopicEvent>) => {
  const received: Array<string> = []
  let lagged = 0
  void (async () => {
    for await (const event of events) {
      if (event.type === "message") received.push(text(event.content))
      else if (event.type === "lagged") lagged += event.missed ?? 1
    }
  })()
  return { received, lagged: () => lagged }
}

const until = async (what: () => boolean, ms: number) => {
  const end = Date.now() + ms
  while (!what() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
}

/** A node that has joined and that the receiver counts among its neighbours. */
const joinedSender = async (dht: LoopbackDht, receiver: Topic): Promise<{ node: Node; topic: Topic }> => {
  const node = await createNode(loopbackOptions(dht))
  const topic = await node.joinTopic(TOPIC, SECRET, { timeoutMs: 20_000 })
  await until(() => receiver.neighbors().includes(node.endpointId), 5_000)
  return { node, topic }
}

describe("delivery through the facade", () => {
  let dht: LoopbackDht
  let receiverNode: Node
  let receiver: Topic
  let log: ReturnType<typeof record>
  beforeAll(async () => {
    dht = await startTestbed()
    receiverNode = await createNode(loopbackOptions(dht))
    receiver = await receiverNode.joinTopic(TOPIC, SECRET, { wait: false })
    log = record(receiver.events())
  })
  afterAll(async () => {
    await receiverNode.close()
    await dht.close()
  })

  it("200 awaited 1 KB broadcasts one after another all arrive, none reported lost", async () => {
    const { node, topic } = await joinedSender(dht, receiver)
    try {
      const sent: Array<string> = []
      for (let i = 0; i < 200; i++) {
        const message = `burst ${i} ${"x".repeat(1000)}`
        await topic.broadcast(message)
        sent.push(message)
      }
      await until(() => log.received.filter((m) => m.startsWith("burst ")).length >= 200, 8_000)
      expect({ received: log.received.filter((m) => m.startsWith("burst ")), lagged: log.lagged() }).toEqual({
        received: sent,
        lagged: 0
      })
    } finally {
      await node.close()
    }
  }, 30_000)

  it("a broadcast awaited right before node.close() reaches the neighbour (3 senders)", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const { node, topic } = await joinedSender(dht, receiver)
      await topic.broadcast(`last words ${trial}`)
      await node.close()
      await until(() => log.received.includes(`last words ${trial}`), 3_000)
      expect(log.received).toContain(`last words ${trial}`)
    }
  }, 45_000)
})
