// iroh-gossip interop: our TypeScript gossip node (`@dtt/gossip-iroh`) and a real Rust iroh-gossip 0.101 node
// (interop/gossip, iroh 1 from crates.io) on one topic over real QUIC on 127.0.0.1. Relays and DNS are off on both
// sides; addresses are exchanged explicitly (JSON lines to the Rust node, `addAddress` on ours), or learned from
// gossip PeerData.
import { Bytes, type EndpointId, type Gossip, NodeIdentity } from "@dtt/core"
import { GossipIroh } from "@dtt/gossip-iroh"
import { Duration, Effect, Exit, Schedule, Scope, Stream } from "effect"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { afterEach, describe, expect, it } from "vitest"
import { harnessBinary } from "./harness.js"

type Json = Record<string, unknown>

interface RustNode {
  readonly id: EndpointId.EndpointId
  readonly addrs: ReadonlyArray<string>
  readonly events: Array<Json>
  readonly send: (cmd: Json) => void
  readonly close: () => Promise<void>
}

const running: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((close) => close()))
})

const startRust = (): Promise<RustNode> =>
  new Promise((resolve, reject) => {
    const child = spawn(harnessBinary("gossip"), [], { stdio: ["pipe", "pipe", "inherit"] })
    const events: Array<Json> = []
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const send = (cmd: Json) => child.stdin.write(`${JSON.stringify(cmd)}\n`)
    const close = async () => {
      if (child.exitCode === null) {
        send({ cmd: "shutdown" })
        child.stdin.end()
        const timer = setTimeout(() => child.kill(), 5_000)
        await exited
        clearTimeout(timer)
      }
    }
    running.push(close)
    createInterface({ input: child.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as Json
      if (msg.type === "ready") {
        resolve({ id: msg.id as EndpointId.EndpointId, addrs: msg.addrs as Array<string>, events, send, close })
      } else events.push(msg)
    })
    child.once("error", reject)
  })

interface TsNode {
  readonly id: EndpointId.EndpointId
  readonly service: GossipIroh.GossipIrohService
  readonly scope: Scope.CloseableScope
}

const startTs = async (): Promise<TsNode> => {
  const scope = await Effect.runPromise(Scope.make())
  const identity = NodeIdentity.generate()
  const service = await Effect.runPromise(
    GossipIroh.make().pipe(Effect.provideService(NodeIdentity.NodeIdentity, identity), Scope.extend(scope))
  )
  running.push(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  return { id: identity.endpointId, service, scope }
}

const tsAddr = (node: TsNode) => Effect.runPromise(node.service.addr)

const hex = Bytes.toHex
const text = (s: string) => new TextEncoder().encode(s)
const TOPIC = new Uint8Array(32).fill(0x42)
const TOPIC_HEX = hex(TOPIC)

interface TsSub {
  readonly topic: Gossip.GossipTopic
  readonly events: Array<Gossip.GossipEvent>
  readonly received: () => Array<string>
}

const subscribeTs = async (node: TsNode, bootstrap: ReadonlyArray<EndpointId.EndpointId>): Promise<TsSub> => {
  const topic = await Effect.runPromise(node.service.subscribe(TOPIC, bootstrap).pipe(Scope.extend(node.scope)))
  const events: Array<Gossip.GossipEvent> = []
  Effect.runFork(Stream.runForEach(topic.events, (e) => Effect.sync(() => events.push(e))).pipe(Effect.ignore))
  const received = () => events.flatMap((e) => (e._tag === "Received" ? [new TextDecoder().decode(e.content)] : []))
  return { topic, events, received }
}

const rustReceived = (node: RustNode) =>
  node.events.flatMap((e) => (e.kind === "Received" ? [Buffer.from(e.data as string, "hex").toString()] : []))

const rustNeighbors = (node: RustNode) => {
  const set = new Set<string>()
  for (const e of node.events) {
    if (e.kind === "NeighborUp") set.add(e.peer as string)
    if (e.kind === "NeighborDown") set.delete(e.peer as string)
  }
  return set
}

const until = (what: string, check: () => boolean, timeout = Duration.seconds(15)) =>
  Effect.runPromise(
    Effect.suspend(() => (check() ? Effect.void : Effect.fail(what))).pipe(
      Effect.retry({ schedule: Schedule.spaced(Duration.millis(25)) }),
      Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`timed out waiting for: ${what}`) })
    )
  )

describe("iroh-gossip interop: TypeScript <-> Rust iroh-gossip 0.101 on loopback", () => {
  it("a Rust node joins a TS node: neighbours on both sides, messages both ways", async () => {
    const ts = await startTs()
    const rust = await startRust()
    const a = await tsAddr(ts)
    const sub = await subscribeTs(ts, [])
    rust.send({ cmd: "addr", id: ts.id, addrs: a.directAddresses })
    rust.send({ cmd: "join", topic: TOPIC_HEX, peers: [ts.id] })

    await until("rust sees NeighborUp(ts)", () => rustNeighbors(rust).has(ts.id))
    await until("ts sees NeighborUp(rust)", () => sub.events.some((e) => e._tag === "NeighborUp" && e.peer === rust.id))
    expect(await Effect.runPromise(sub.topic.neighbors)).toEqual([rust.id])

    await Effect.runPromise(sub.topic.broadcast(text("from ts")))
    await until("rust got the TS broadcast", () => rustReceived(rust).includes("from ts"))
    const fromTs = rust.events.find((e) => e.kind === "Received")!
    expect(fromTs.from).toBe(ts.id)
    expect(fromTs.scope).toBe("Swarm(Round(0))")

    rust.send({ cmd: "broadcast", topic: TOPIC_HEX, data: hex(text("from rust")) })
    await until("ts got the Rust broadcast", () => sub.received().includes("from rust"))
    const got = sub.events.find((e) => e._tag === "Received")!
    expect(got).toMatchObject({ _tag: "Received", deliveredFrom: rust.id, scope: { _tag: "Swarm", hops: 0 } })

    rust.send({ cmd: "broadcast_neighbors", topic: TOPIC_HEX, data: hex(text("neighbours only")) })
    await until("ts got the Rust neighbour broadcast", () => sub.received().includes("neighbours only"))
    expect(sub.events.filter((e) => e._tag === "Received").at(-1)).toMatchObject({ scope: { _tag: "Neighbors" } })

    // The Rust node leaves the topic: it sends Disconnect, we see NeighborDown.
    rust.send({ cmd: "leave", topic: TOPIC_HEX })
    await until(
      "ts sees NeighborDown(rust)",
      () => sub.events.some((e) => e._tag === "NeighborDown" && e.peer === rust.id)
    )
    expect(await Effect.runPromise(sub.topic.neighbors)).toEqual([])
  })

  it("a TS node joins a Rust node by id (address given), messages both ways", async () => {
    const rust = await startRust()
    const ts = await startTs()
    rust.send({ cmd: "join", topic: TOPIC_HEX, peers: [] })
    await Effect.runPromise(ts.service.addAddress({ id: rust.id, relayUrl: undefined, directAddresses: rust.addrs }))
    const sub = await subscribeTs(ts, [rust.id])
    await Effect.runPromise(sub.topic.joined)
    await until("rust sees NeighborUp(ts)", () => rustNeighbors(rust).has(ts.id))

    rust.send({ cmd: "broadcast", topic: TOPIC_HEX, data: hex(text("hello ts")) })
    await until("ts got it", () => sub.received().includes("hello ts"))
    await Effect.runPromise(sub.topic.broadcast(text("hello rust")))
    await until("rust got it", () => rustReceived(rust).includes("hello rust"))

    // Our node leaves: Rust sees NeighborDown for us.
    await Effect.runPromise(Scope.close(ts.scope, Exit.void))
    await until("rust sees NeighborDown(ts)", () => !rustNeighbors(rust).has(ts.id))
    expect(rust.events.some((e) => e.kind === "NeighborDown" && e.peer === ts.id)).toBe(true)
  })

  /**
   * Two TS nodes and a Rust node: TS1 subscribed alone (`s1`), the Rust node told TS1's address and joined through
   * it; TS2 started but knows nobody yet. `a1` is TS1's address.
   */
  const rustJoinedTs1 = async () => {
    const ts1 = await startTs()
    const rust = await startRust()
    const ts2 = await startTs()
    const a1 = await tsAddr(ts1)
    const s1 = await subscribeTs(ts1, [])
    rust.send({ cmd: "addr", id: ts1.id, addrs: a1.directAddresses })
    rust.send({ cmd: "join", topic: TOPIC_HEX, peers: [ts1.id] })
    await until("rust joined ts1", () => rustNeighbors(rust).has(ts1.id))
    return { a1, rust, s1, ts1, ts2 }
  }

  it("mixed swarm TS1 <- Rust <- TS2: every broadcast reaches the two other nodes", async () => {
    const { rust, s1, ts2 } = await rustJoinedTs1()
    // TS2 only knows the Rust node's address; the Rust node knows TS2's only from what TS2 sends.
    await Effect.runPromise(ts2.service.addAddress({ id: rust.id, relayUrl: undefined, directAddresses: rust.addrs }))
    const s2 = await subscribeTs(ts2, [rust.id])
    await Effect.runPromise(s2.topic.joined)
    await until("rust has both TS neighbours", () => rustNeighbors(rust).size === 2)

    await Effect.runPromise(s1.topic.broadcast(text("m-ts1")))
    await Effect.runPromise(s2.topic.broadcast(text("m-ts2")))
    rust.send({ cmd: "broadcast", topic: TOPIC_HEX, data: hex(text("m-rust")) })

    await until("ts1 got ts2 + rust", () => ["m-ts2", "m-rust"].every((m) => s1.received().includes(m)))
    await until("ts2 got ts1 + rust", () => ["m-ts1", "m-rust"].every((m) => s2.received().includes(m)))
    await until("rust got ts1 + ts2", () => ["m-ts1", "m-ts2"].every((m) => rustReceived(rust).includes(m)))
    // No duplicates and never our own message back.
    expect([...s1.received()].sort()).toEqual(["m-rust", "m-ts2"])
    expect([...s2.received()].sort()).toEqual(["m-rust", "m-ts1"])
    expect([...rustReceived(rust)].sort()).toEqual(["m-ts1", "m-ts2"])
  })

  it("Rust dials a TS node it only learned about from gossip PeerData (our AddrInfo encoding)", async () => {
    const { a1, rust, s1, ts1, ts2 } = await rustJoinedTs1()
    // TS2 knows only TS1. TS1 forwards TS2's join (with TS2's PeerData) to the Rust node, whose active view is
    // small, so it answers with a Neighbor request: it must dial TS2 using the address it decoded from PeerData.
    await Effect.runPromise(ts2.service.addAddress(a1))
    const s2 = await subscribeTs(ts2, [ts1.id])
    await Effect.runPromise(s2.topic.joined)
    await until("rust became a neighbour of ts2", () => rustNeighbors(rust).has(ts2.id))
    await until("ts2 sees the rust node", () => s2.events.some((e) => e._tag === "NeighborUp" && e.peer === rust.id))
    expect(s1.events.some((e) => e._tag === "NeighborUp" && e.peer === ts2.id)).toBe(true)
  })
})
