import { describe, expect, it } from "vitest"
import { createNode, joinTopic, TopicTrackerError } from "../src/index.js"
import { useTestbed } from "./hooks.js"
import { activeResources, loopbackOptions, take } from "./testbed.js"

const settle = () => new Promise((resolve) => setTimeout(resolve, 200))

describe("lifecycle", () => {
  const dht = useTestbed()

  it("closing a topic ends its iterators; closing the node closes its topics and leaves no handle behind", async () => {
    await settle()
    const before = activeResources()
    const a = await createNode(loopbackOptions(dht))
    const b = await createNode(loopbackOptions(dht))
    const [ta, tb] = await Promise.all([
      a.joinTopic("promise-lifecycle", "secret", { timeoutMs: 25_000 }),
      b.joinTopic("promise-lifecycle", "secret", { timeoutMs: 25_000 })
    ])
    expect(activeResources()).not.toEqual(before) // sockets are open now

    const messages = ta.messages()
    const events = ta.events()
    const pending = [messages.next(), events.next()]
    await ta.close()
    // Both readers were waiting: they end instead of hanging.
    expect(await Promise.all(pending)).toEqual([{ done: true, value: undefined }, { done: true, value: undefined }])
    expect(await ta.messages().next()).toEqual({ done: true, value: undefined })
    expect(ta.isClosed()).toBe(true)
    expect(ta.isJoined()).toBe(false)
    expect(a.topics()).toEqual([])
    await expect(ta.broadcast("late")).rejects.toMatchObject({ _tag: "TopicClosed", message: "the topic is closed" })
    await ta.close() // idempotent

    // b sees a leave.
    const down = await take(tb.events(), 1, 20_000).catch(() => [])
    expect(down).toEqual([{ type: "neighborDown", peer: a.endpointId }])

    const bMessages = tb.messages()
    const bPending = bMessages.next()
    expect(b.topics()).toEqual([tb])
    await b.close()
    expect(await bPending).toEqual({ done: true, value: undefined })
    expect(tb.isClosed()).toBe(true)
    expect(b.topics()).toEqual([])
    await expect(b.joinTopic("promise-lifecycle", "secret")).rejects.toMatchObject({ _tag: "NodeClosed" })
    await a.close()
    await b.close() // idempotent

    await settle()
    expect(activeResources()).toEqual(before)
  })

  it("closing a node interrupts a join still waiting for peers", async () => {
    const node = await createNode(loopbackOptions(dht))
    const join = node.joinTopic("promise-nobody-here", "secret")
    await new Promise((resolve) => setTimeout(resolve, 500))
    await node.close()
    const error = await join.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(TopicTrackerError)
    expect(error).toMatchObject({ _tag: "NodeClosed", message: "the node was closed" })
  })

  it("wait: false with a timeout: the topic closes by itself when nobody is found, and a standalone node with it", async () => {
    await settle()
    const before = activeResources()
    const node = await createNode(loopbackOptions(dht))
    const topic = await node.joinTopic("promise-alone", "secret", { wait: false, timeoutMs: 1_500 })
    expect(topic.isClosed()).toBe(false)
    const reader = topic.events()
    await expect(topic.joined()).rejects.toMatchObject({ _tag: "TopicClosed" })
    expect(await reader.next()).toEqual({ done: true, value: undefined })
    await settle()
    expect(node.topics()).toEqual([])
    await node.close()

    const standalone = await joinTopic("promise-alone", "secret", {
      ...loopbackOptions(dht),
      wait: false,
      timeoutMs: 1_500
    })
    await expect(standalone.joined()).rejects.toMatchObject({ _tag: "TopicClosed" })
    // Its node closes with it, without being asked (the gossip endpoint takes about a second to shut down).
    const deadline = Date.now() + 5_000
    while (JSON.stringify(activeResources()) !== JSON.stringify(before) && Date.now() < deadline) await settle()
    expect(activeResources()).toEqual(before)
    await standalone.close() // idempotent
  })

  it("module-level joinTopic: closing the topic closes its node", async () => {
    await settle()
    const before = activeResources()
    const other = await createNode(loopbackOptions(dht))
    const [topic, theirs] = await Promise.all([
      joinTopic("promise-standalone", "secret", { ...loopbackOptions(dht), timeoutMs: 25_000 }),
      other.joinTopic("promise-standalone", "secret", { timeoutMs: 25_000 })
    ])
    const incoming = topic.messages()
    await theirs.broadcast("hi")
    const [message] = await take(incoming, 1)
    expect(new TextDecoder().decode(message!.content)).toBe("hi")
    await topic.close()
    expect(await incoming.next()).toEqual({ done: true, value: undefined })
    await other.close()
    await settle()
    // The standalone node is gone too: nothing of either node is left.
    expect(activeResources()).toEqual(before)
  })

  it("Symbol.asyncDispose closes nodes and topics (await using)", async () => {
    await settle()
    const before = activeResources()
    let leaked: { isClosed(): boolean } | undefined
    {
      await using node = await createNode(loopbackOptions(dht))
      await using topic = await node.joinTopic("promise-dispose", "secret", { wait: false })
      expect(topic.isClosed()).toBe(false)
      leaked = node
    }
    expect(leaked.isClosed()).toBe(true)
    await settle()
    expect(activeResources()).toEqual(before)
  })
})
