// Rust distributed-topic-tracker 0.3.5 nodes (interop/node: iroh 1, iroh-gossip 0.101, iroh-mainline-address-lookup
// 0.6) and ours on one topic, meeting only through a private DHT: the Testbed in this process, on a bridge this
// file creates (see netns.ts). Nobody is told anybody's address: records in the minute slots give the endpoint
// ids, pkarr records on the same DHT give the addresses.
import { Crypto } from "@dtt/core"
import { DhtMainline } from "@dtt/dht-mainline"
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
let testbed: TestbedServer.Server
const running: Array<TopicNode> = []
let topicSeq = 0
const secondsSince = (t: number) => ((Date.now() - t) / 1000).toFixed(1)
/** Measured times go to the log (tests never assert speed). */
const figure = (text: string) => console.log(`interop node: ${text}`)
const freshTopic = (label: string) => ({
  topic: `iop-${label}-${process.pid}-${++topicSeq}`,
  secret: `secret-${label}`
})

describe.skipIf(unavailable !== undefined)("Rust and TypeScript topic nodes through one private DHT", () => {
  beforeAll(async () => {
    net = Netns.open()
    testbedScope = Effect.runSync(Scope.make())
    testbed = await Effect.runPromise(
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
  const pairExchanges = async (a: TopicNode, b: TopicNode, secondStartedAt: number) => {
    const joined = await waitFor(() => a.neighbors.has(b.id) && b.neighbors.has(a.id), JOIN_MS)
    expect(joined, `${a.name} and ${b.name} never became neighbours`).toBe(true)
    figure(`${a.kind} first, ${b.kind} second: neighbours ${secondsSince(secondStartedAt)} s after the second started`)
    await a.say(line(a))
    await b.say(line(b))
    await waitFor(() => missingDeliveries([a, b], line).length === 0, DELIVERY_MS)
    figure(
      `${a.kind} first, ${b.kind} second: both lines delivered ${
        secondsSince(secondStartedAt)
      } s after the second started`
    )
    expect(missingDeliveries([a, b], line)).toEqual([])
    expect(a.received.find((r) => r.content === line(b))?.from).toBe(b.id)
    expect(b.received.find((r) => r.content === line(a))?.from).toBe(a.id)
  }

  /** True when the neighbour graph of `nodes` (edges only between members) is one connected component. */
  const oneComponent = (nodes: ReadonlyArray<TopicNode>): boolean => {
    const byId = new Map(nodes.map((n) => [n.id, n]))
    const seen = new Set<string>([nodes[0]!.id])
    const queue = [nodes[0]!]
    while (queue.length > 0) {
      const n = queue.pop()!
      for (const other of nodes) {
        const linked = n.neighbors.has(other.id) || other.neighbors.has(n.id)
        if (linked && !seen.has(other.id) && byId.has(other.id)) {
          seen.add(other.id)
          queue.push(other)
        }
      }
    }
    return seen.size === nodes.length
  }

  /** Publishers this node decrypts from the current and the previous minute's slot. */
  const slotPublishers = async (n: TopicNode): Promise<Set<string>> =>
    new Set([...(await n.readSlot(0)), ...(await n.readSlot(-1))])

  it("a Rust node started first and a TS node started second find each other and exchange a message each way", async () => {
    const spec = freshTopic("rust-first")
    const rust = track(await startRust(net, "r1", spec))
    const second = Date.now()
    const ts = track(await startTs("t1", spec))
    await pairExchanges(rust, ts, second)
  })

  it("a TS node started first and a Rust node started second find each other and exchange a message each way", async () => {
    const spec = freshTopic("ts-first")
    const ts = track(await startTs("t1", spec))
    const second = Date.now()
    const rust = track(await startRust(net, "r1", spec))
    await pairExchanges(ts, rust, second)
  })

  describe("3 TS + 2 Rust nodes started 0/2/5/8/11 s apart", () => {
    const group: Array<TopicNode> = []
    const rust: Array<Awaited<ReturnType<typeof startRust>>> = []
    const spec = freshTopic("mixed")
    const round = (r: number) => (n: TopicNode) => `round ${r} from ${n.kind} node ${n.name}`
    afterAll(async () => {
      await Promise.all(group.map((n) => n.close().catch(() => undefined)))
    })

    it("every node receives every other node's message, and each side decrypts the other's DHT records", async () => {
      const plan: Array<[number, () => Promise<TopicNode>]> = [
        [0, () => startTs("t1", spec)],
        [2, () => startRust(net, "r1", spec)],
        [5, () => startTs("t2", spec)],
        [8, () => startRust(net, "r2", spec)],
        [11, () => startTs("t3", spec)]
      ]
      const t0 = Date.now()
      for (const [at, start] of plan) {
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + at * 1000 - Date.now())))
        const node = await start()
        group.push(node)
        if (node.kind === "rust") rust.push(node as Awaited<ReturnType<typeof startRust>>)
      }
      const lastStarted = Date.now()
      const connected = await waitFor(() => oneComponent(group), JOIN_MS)
      expect(connected, `neighbours: ${group.map((n) => `${n.name}:${n.neighbors.size}`).join(" ")}`).toBe(true)
      figure(`3 TS + 2 Rust: one component ${secondsSince(lastStarted)} s after the last node started`)
      const said = Date.now()
      for (const n of group) await n.say(round(1)(n))
      await waitFor(() => missingDeliveries(group, round(1)).length === 0, DELIVERY_MS)
      figure(`3 TS + 2 Rust: 20 deliveries complete ${secondsSince(said)} s after the lines were said`)
      expect(missingDeliveries(group, round(1))).toEqual([])

      // Records: every TS node opens at least one Rust node's record, every Rust node at least one TS node's.
      // Slots hold at most 5 records and nodes skip writing into full ones, so "every" would not hold by design.
      const ids = (kind: "ts" | "rust") => new Set(group.filter((n) => n.kind === kind).map((n) => n.id))
      const opened = new Map<string, Set<string>>()
      const crossOpened = (n: TopicNode) =>
        [...(opened.get(n.name) ?? [])].some((id) => ids(n.kind === "ts" ? "rust" : "ts").has(id))
      const deadline = Date.now() + 70_000
      while (Date.now() < deadline && !group.every(crossOpened)) {
        for (const n of group.filter((m) => !crossOpened(m))) opened.set(n.name, await slotPublishers(n))
        if (!group.every(crossOpened)) await new Promise((r) => setTimeout(r, 2_000))
      }
      const report = group.map((n) =>
        `${n.name} opened [${[...(opened.get(n.name) ?? [])].map((id) => id.slice(0, 8))}]`
      )
      expect(group.filter((n) => !crossOpened(n)).map((n) => n.name), report.join("; ")).toEqual([])
    })

    it("after kill -9 of both Rust nodes the TS nodes stay one component with 100 % delivery among themselves", async () => {
      expect(rust.length).toBe(2)
      await Promise.all(rust.map((r) => r.kill9()))
      const killedAt = Date.now()
      const ts = group.filter((n) => n.kind === "ts")
      const rustIds = new Set(rust.map((r) => r.id))
      const settled = await waitFor(
        () => oneComponent(ts) && ts.every((n) => ![...n.neighbors].some((id) => rustIds.has(id))),
        JOIN_MS
      )
      figure(`kill -9: TS nodes dropped both Rust neighbours ${secondsSince(killedAt)} s after the kill`)
      expect(
        settled,
        `neighbours: ${ts.map((n) => `${n.name}:[${[...n.neighbors].map((id) => id.slice(0, 8))}]`).join(" ")}`
      ).toBe(true)
      for (const n of ts) await n.say(round(2)(n))
      await waitFor(() => missingDeliveries(ts, round(2)).length === 0, DELIVERY_MS)
      expect(missingDeliveries(ts, round(2))).toEqual([])
    })
  })

  it("a TS-only group and a Rust-only group on two separate DHTs, once the DHTs are joined, merge into one swarm through the merge actors", async () => {
    // Group B's DHT: a second Testbed on a second host address; the Rust nodes' /etc/hosts points there.
    const hostB = net.addHostAddress(2)
    const scopeB = Effect.runSync(Scope.make())
    try {
      const testbedB = await Effect.runPromise(
        TestbedServer.serve({ nodes: 8, host: hostB, port: Netns.ROUTER_PORT }).pipe(
          Scope.extend(scopeB),
          Effect.provide(Crypto.layerNode)
        )
      )
      // Merge timers shortened on both sides (first run after 10 s, then every 10-20 s) so the run stays short.
      const spec = { ...freshTopic("merge"), mergeSecs: 10 }
      const ts = [track(await startTs("t1", spec)), track(await startTs("t2", spec))]
      const rust = [
        track(await startRust(net, "r3", { ...spec, dhtHost: hostB })),
        track(await startRust(net, "r4", { ...spec, dhtHost: hostB }))
      ]
      const all = [...ts, ...rust]
      const groupsFormed = await waitFor(() => oneComponent(ts) && oneComponent(rust), JOIN_MS)
      expect(groupsFormed, `neighbours: ${all.map((n) => `${n.name}:${n.neighbors.size}`).join(" ")}`).toBe(true)
      const crossLinks = () => ts.some((t) => rust.some((r) => t.neighbors.has(r.id) || r.neighbors.has(t.id)))
      // Apart while the DHTs are apart: 15 s, longer than one merge period of every node.
      await new Promise((r) => setTimeout(r, 15_000))
      expect(crossLinks(), "the groups met before their DHTs were joined").toBe(false)

      // Join the DHTs: a storing node that knows both first nodes, then self-lookups everywhere so every node
      // learns the other side through it.
      const joinedAt = Date.now()
      await Effect.runPromise(
        Effect.gen(function*() {
          const link = yield* DhtMainline.makeNode({
            host: Netns.HOST_ADDR,
            port: 0,
            storing: { rule: "last-writer-wins" },
            bootstrap: [testbed.bootstrap, testbedB.bootstrap]
          })
          yield* link.bootstrap
          for (let round = 0; round < 2; round++) {
            yield* Effect.forEach([...testbed.nodes, ...testbedB.nodes], (n) => n.bootstrap, {
              concurrency: 4,
              discard: true
            })
          }
        }).pipe(Scope.extend(scopeB), Effect.provide(Crypto.layerNode))
      )
      const merged = await waitFor(() => oneComponent(all), 90_000)
      figure(
        `merge: ${merged ? "one component" : "still apart"} ${secondsSince(joinedAt)} s after the DHTs were joined`
      )
      expect(
        merged,
        `neighbours: ${all.map((n) => `${n.name}:[${[...n.neighbors].map((id) => id.slice(0, 8))}]`).join(" ")}`
      ).toBe(true)
      const round = (n: TopicNode) => `after the merge from ${n.kind} node ${n.name}`
      for (const n of all) await n.say(round(n))
      await waitFor(() => missingDeliveries(all, round).length === 0, DELIVERY_MS)
      expect(missingDeliveries(all, round)).toEqual([])
    } finally {
      await Promise.all(running.splice(0).map((n) => n.close().catch(() => undefined)))
      await Effect.runPromise(Scope.close(scopeB, Exit.void))
    }
  })
})
