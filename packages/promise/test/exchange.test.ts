import { describe, expect, it } from "vitest"
import { createNode, type Node } from "../src/index.js"
import { useTestbed } from "./hooks.js"
import { loopbackOptions, take } from "./testbed.js"

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe("two nodes on a loopback DHT", () => {
  const dht = useTestbed()

  it("join the same topic by name and secret and exchange messages both ways", async () => {
    const started = Date.now()
    const a: Node = await createNode(loopbackOptions(dht))
    const b: Node = await createNode(loopbackOptions(dht))
    try {
      expect(a.endpointId).toMatch(/^[0-9a-f]{64}$/)
      expect(a.endpointId).not.toBe(b.endpointId)
      const [ta, tb] = await Promise.all([
        a.joinTopic("promise-exchange", "s3cret", { timeoutMs: 25_000 }),
        b.joinTopic("promise-exchange", "s3cret", { timeoutMs: 25_000 })
      ])
      const joinedAfter = Date.now() - started
      expect(ta.topicId).toBe(tb.topicId)
      expect(ta.isJoined()).toBe(true)
      expect(tb.isJoined()).toBe(true)
      expect(ta.neighbors()).toContain(b.endpointId)
      expect(tb.neighbors()).toContain(a.endpointId)

      const atA = ta.messages()
      const atB = tb.messages()
      await ta.broadcast("hello from a")
      await tb.broadcast(new TextEncoder().encode("hello from b"))
      const [[fromB], [fromA]] = await Promise.all([take(atA, 1), take(atB, 1)])
      expect(text(fromA!.content)).toBe("hello from a")
      expect(fromA!.deliveredFrom).toBe(a.endpointId)
      expect(fromA!.scope).toBe("swarm")
      expect(text(fromB!.content)).toBe("hello from b")
      expect(fromB!.deliveredFrom).toBe(b.endpointId)

      // Direct-neighbour sends arrive too, marked as such; every iterator is its own reader.
      const second = tb.messages()
      await ta.broadcastNeighbors("to neighbours")
      const [[n1], [n2]] = await Promise.all([take(atB, 1), take(second, 1)])
      expect(text(n1!.content)).toBe("to neighbours")
      expect(n1!.scope).toBe("neighbors")
      expect(text(n2!.content)).toBe("to neighbours")
      // Each reader has its own bytes, and the hashes handed out are copies.
      n1!.content.fill(0)
      expect(text(n2!.content)).toBe("to neighbours")
      const hashes = tb.lastMessageHashes()
      hashes[0]!.fill(0)
      expect(tb.lastMessageHashes()[0]).not.toEqual(hashes[0])
      // b received two messages: their hashes are remembered, oldest first; a's own sends are not in a's list.
      expect(tb.lastMessageHashes()).toHaveLength(2)
      expect(ta.lastMessageHashes()).toHaveLength(1)
      console.log(`two nodes joined after ${joinedAfter} ms; exchange done after ${Date.now() - started} ms`)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
