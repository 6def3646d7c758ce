import { describe, expect, it } from "vitest"
import { type TopicEvent } from "../src/index.js"
import { useNode, useTestbed } from "./hooks.js"
import { take } from "./testbed.js"

describe("readers", () => {
  const dht = useTestbed()
  const a = useNode(dht)
  const b = useNode(dht)

  it("a reader that falls behind is told how many events it lost and keeps going; others are unaffected", async () => {
    // b joins by the 32-byte topic id, a by name: the same topic.
    const ta = await a().joinTopic("promise-readers", "secret", { wait: false })
    const idBytes = new Uint8Array(Buffer.from(ta.topicId, "hex"))
    const tb = await b().joinTopic(idBytes, "secret", { timeoutMs: 25_000 })
    await ta.joined()
    expect(tb.topicId).toBe(ta.topicId)

    const slow = tb.events() // not read until everything has arrived
    const slowMessages = tb.messages()
    const fast = tb.messages()
    const total = 100
    // In rounds of 10, each read by the fast reader before the next is sent. (Events that arrive in one burst
    // are published to the readers within one turn of the event loop, so a burst of more than 64 makes even an
    // attentive reader lag.)
    const all: Array<{ readonly content: Uint8Array }> = []
    for (let round = 0; round < total / 10; round++) {
      const reading = take(fast, 10, 10_000)
      for (let i = round * 10; i < round * 10 + 10; i++) await ta.broadcast(`m${i}`)
      all.push(...(await reading))
    }
    expect(all.map((m) => new TextDecoder().decode(m.content))).toEqual(
      Array.from({ length: total }, (_, i) => `m${i}`)
    )

    // The slow reader's buffer holds the newest 64 events; the oldest were dropped and it is told how many.
    const events = await take(slow, 65, 5_000)
    expect(events[0]).toEqual({ type: "lagged", missed: total - 64 } satisfies TopicEvent)
    expect(events.slice(1).map((e) => (e.type === "message" ? new TextDecoder().decode(e.content) : e.type))).toEqual(
      Array.from({ length: 64 }, (_, i) => `m${total - 64 + i}`)
    )
    // messages() skips the lag notice and goes on with what it still has.
    const [first] = await take(slowMessages, 1, 5_000)
    expect(new TextDecoder().decode(first!.content)).toBe(`m${total - 64}`)

    // After the lag, the slow reader still receives new messages.
    await ta.broadcast("after lag")
    const [next] = await take(slow, 1, 10_000)
    expect(next).toMatchObject({ type: "message", deliveredFrom: a().endpointId })
    expect(new TextDecoder().decode((next as { content: Uint8Array }).content)).toBe("after lag")

    // Leaving a for-await loop early releases that reader only; the topic keeps running.
    for await (const _ of fast) break
    expect(tb.isClosed()).toBe(false)
    expect(tb.lastMessageHashes()).toHaveLength(5)
  })
})
