// Rust distributed-topic-tracker 0.3.5 nodes (interop/node: iroh 1, iroh-gossip 0.101, iroh-mainline-address-lookup
// 0.6) and ours on one topic, meeting only through a private DHT: the Testbed in this process, on a bridge this
// file creates (see netns.ts). Nobody is told anybody's address: records in the minute slots give the endpoint
// ids, pkarr records on the same DHT give the addresses.
import { Crypto } from "@dtt/core"
import { Effect, Exit, Scope } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import * as TestbedServer from "../../packages/cli/src/TestbedServer.js"
import * as Netns from "./netns.js"
import { missingDeliveries, startRust, startTs, type TopicNode, waitFor } from "./topicNodes.js"

const unavailable = Netns.unavailableReason()
if (unavailable) console.warn(`interop node scenarios SKIPPED: ${unavailable}`)

const TESTBED_NODES = 12
const JOIN_MS = 60_000
const DELIVERY_MS = 20_000

let net: Netns.Network
let testbedScope: Scope.CloseableScope
const running: Array<TopicNode> = []
let topicSeq = 0
const freshTopic = (label: string) => ({ topic: `iop-${label}-${process.pid}-${++topicSeq}`, secret: `secret-${label}` })

describe.skipIf(unavailable !== undefined)("Rust and TypeScript topic nodes through one private DHT", () => {
  beforeAll(async () => {
    net = Netns.open()
    testbedScope = Effect.runSync(Scope.make())
    await Effect.runPromise(
      TestbedServer.serve({ nodes: TESTBED_NODES, host: Netns.HOST_ADDR, port: Netns.ROUTER_PORT }).pipe(
        Scope.extend(testbedScope),
        Effect.provide(Crypto.layerNode)
      )
    )
    for (let i = 1; i <= 4; i++) net.addNamespace(`r${i}`, 10 + i)
  })
  afterEach(async () => {
    await Promise.all(running.splice(0).map((n) => n.close().catch(() => undefined)))
  })
  afterAll(async () => {
    if (testbedScope) await Effect.runPromise(Scope.close(testbedScope, Exit.void))
    net?.close()
  })

  const track = <N extends TopicNode>(node: N): N => {
    running.push(node)
    return node
  }
  const line = (n: TopicNode) => `hello from ${n.kind} node ${n.name} (${n.id.slice(0, 8)})`

  /** Both see the other as a neighbour, each says one line, each must get the other's. */
  const pairExchanges = async (a: TopicNode, b: TopicNode) => {
    const joined = await waitFor(() => a.neighbors.has(b.id) && b.neighbors.has(a.id), JOIN_MS)
    expect(joined, `${a.name} and ${b.name} never became neighbours`).toBe(true)
    await a.say(line(a))
    await b.say(line(b))
    await waitFor(() => missingDeliveries([a, b], line).length === 0, DELIVERY_MS)
    expect(missingDeliveries([a, b], line)).toEqual([])
    expect(a.received.find((r) => r.content === line(b))?.from).toBe(b.id)
    expect(b.received.find((r) => r.content === line(a))?.from).toBe(a.id)
  }

  it("a Rust node started first and a TS node started second find each other and exchange a message each way", async () => {
    const spec = freshTopic("rust-first")
    const rust = track(await startRust(net, "r1", spec))
    const ts = track(await startTs("t1", spec))
    await pairExchanges(rust, ts)
  })

  it("a TS node started first and a Rust node started second find each other and exchange a message each way", async () => {
    const spec = freshTopic("ts-first")
    const ts = track(await startTs("t1", spec))
    const rust = track(await startRust(net, "r1", spec))
    await pairExchanges(ts, rust)
  })
})
