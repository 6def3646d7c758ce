// The two kinds of topic node the node scenarios mix: ours, in this process (PeerNode, as `dtt chat` runs it),
// and the Rust crate's (interop/node), one OS process in its own network namespace. Both record what they see in
// the same shape, so a scenario can treat them alike.
import { Config, NodeIdentity, Topic, TopicId } from "@dtt/core"
import { Duration, Effect, Exit, Layer, Scope, Stream } from "effect"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import * as PeerNode from "../../packages/cli/src/PeerNode.js"
import { harnessBinary } from "./harness.js"
import { HOST_ADDR, type Network, ROUTER_PORT } from "./netns.js"

export interface Received {
  readonly from: string
  readonly content: string
}

export interface TopicNode {
  readonly kind: "ts" | "rust"
  readonly name: string
  /** Endpoint id, lowercase hex. */
  readonly id: string
  readonly received: Array<Received>
  /** Current gossip neighbours (ids). */
  readonly neighbors: Set<string>
  readonly say: (text: string) => Promise<void>
  /** Publishers (ids) of the records in slot `now + minuteOffset` that decrypt and verify for this node. */
  readonly readSlot: (minuteOffset: number) => Promise<Array<string>>
  readonly close: () => Promise<void>
}

export interface RustNode extends TopicNode {
  readonly kill9: () => Promise<void>
  readonly stderr: () => string
}

export interface TopicSpec {
  readonly topic: string
  readonly secret: string
  /** Both merge actors run after this many seconds and then every so often (default: the crate timers). */
  readonly mergeSecs?: number
  /** Address of the Testbed this node uses (its first node on ROUTER_PORT). Default HOST_ADDR. */
  readonly dhtHost?: string
}

const currentMinute = (offset: number): bigint => BigInt(Math.floor(Date.now() / 60_000) + offset)

const configOf = (spec: TopicSpec): Config.Config => {
  if (spec.mergeSecs === undefined) return Config.defaults
  const every = Duration.seconds(spec.mergeSecs)
  const timers = { initialInterval: every, baseInterval: every, maxJitter: every }
  const merge = Config.defaults.merge
  return {
    ...Config.defaults,
    merge: { bubble: { ...merge.bubble, ...timers }, messageOverlap: { ...merge.messageOverlap, ...timers } }
  }
}

/** Our node, bound to HOST_ADDR on the test bridge, bootstrapping from the Testbed there. */
export const startTs = async (name: string, spec: TopicSpec): Promise<TopicNode> => {
  const scope = Effect.runSync(Scope.make())
  const received: Array<Received> = []
  const neighbors = new Set<string>()
  const identity = NodeIdentity.generate()
  const program = Effect.gen(function*() {
    const context = yield* Layer.build(
      PeerNode.layer(
        {
          identity,
          dht: { host: HOST_ADDR, bootstrap: [`${spec.dhtHost ?? HOST_ADDR}:${ROUTER_PORT}`] },
          gossip: { bindAddr: `${HOST_ADDR}:0`, preset: "minimal", relay: { _tag: "Disabled" } }
        },
        PeerNode.makeCounters()
      )
    )
    const topic = yield* Topic.joinNoWait(TopicId.fromName(spec.topic), {
      secret: spec.secret,
      config: configOf(spec)
    }).pipe(Effect.provide(context))
    const [sender, receiver] = yield* topic.split
    yield* Effect.forkScoped(
      Stream.runForEach(receiver.events, (e) =>
        Effect.sync(() => {
          if (e._tag === "Received") {
            received.push({ from: String(e.deliveredFrom), content: new TextDecoder().decode(e.content) })
          } else if (e._tag === "NeighborUp") neighbors.add(String(e.peer))
          else if (e._tag === "NeighborDown") neighbors.delete(String(e.peer))
        }))
    )
    return { topic, sender }
  })
  const { sender, topic } = await Effect.runPromise(Scope.extend(program, scope)).catch(async (e) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  })
  return {
    kind: "ts",
    name,
    id: String(identity.endpointId),
    received,
    neighbors,
    say: (text) => Effect.runPromise(sender.broadcast(new TextEncoder().encode(text))),
    readSlot: async (offset) => {
      const records = await Effect.runPromise(topic.recordPublisher.getRecords(currentMinute(offset)))
      return records.map((r) => String(r.publisher))
    },
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

type Json = { readonly [key: string]: unknown }

/**
 * A Rust crate node in namespace `iop-<name>` at `addr`. Resolves once it printed its id; rejects if it exits
 * first.
 */
export const startRust = (net: Network, name: string, spec: TopicSpec, timeoutMs = 30_000): Promise<RustNode> =>
  new Promise((resolve, reject) => {
    const dhtHost = spec.dhtHost ?? HOST_ADDR
    const argv = net.inNamespace(name, [
      harnessBinary("node"),
      "--bind",
      net.addressOf(name),
      "--bootstrap",
      `${dhtHost}:${ROUTER_PORT}`,
      "--topic",
      spec.topic,
      "--secret",
      spec.secret,
      ...(spec.mergeSecs === undefined ? [] : ["--merge-secs", String(spec.mergeSecs)])
    ], dhtHost)
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)))
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const received: Array<Received> = []
    const neighbors = new Set<string>()
    const slotWaiters: Array<(publishers: Array<string>) => void> = []
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`rust node ${name} printed no id within ${timeoutMs} ms; stderr: ${stderr}`))
    }, timeoutMs)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`rust node ${name} exited (${code ?? signal}); stderr: ${stderr}`))
      for (const w of slotWaiters.splice(0)) w([])
    })
    const send = (request: Json) => child.stdin.write(`${JSON.stringify(request)}\n`)
    const stop = async (signal: NodeJS.Signals | undefined) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      if (signal) child.kill(signal)
      else child.stdin.end()
      const hard = setTimeout(() => child.kill("SIGKILL"), 5_000)
      await exited
      clearTimeout(hard)
    }
    createInterface({ input: child.stdout }).on("line", (line) => {
      let event: Json
      try {
        event = JSON.parse(line) as Json
      } catch {
        return
      }
      switch (event.event) {
        case "started":
          clearTimeout(timer)
          resolve({
            kind: "rust",
            name,
            id: String(event.id),
            received,
            neighbors,
            say: async (text) => void send({ op: "say", text }),
            readSlot: (offset) =>
              new Promise((done) => {
                slotWaiters.push(done)
                send({ op: "records", minute_offset: offset })
              }),
            close: () => stop(undefined),
            kill9: () => stop("SIGKILL"),
            stderr: () => stderr
          })
          break
        case "received":
          received.push({ from: String(event.from), content: String(event.content) })
          break
        case "up":
          neighbors.add(String(event.peer))
          break
        case "down":
          neighbors.delete(String(event.peer))
          break
        case "records":
          slotWaiters.shift()?.((event.publishers as Array<string>) ?? [])
          break
        case "error":
          if (String(event.reason).startsWith("records:")) slotWaiters.shift()?.([])
          break
      }
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `cond` every 200 ms until it holds or `ms` pass; returns its last value. */
export const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await sleep(200)
  }
  return cond()
}

/** Pairs `receiver<-sender` of `nodes` where the receiver has not got `message(sender)`. */
export const missingDeliveries = (
  nodes: ReadonlyArray<TopicNode>,
  message: (sender: TopicNode) => string
): Array<string> =>
  nodes.flatMap((to) =>
    nodes
      .filter((from) => from !== to && !to.received.some((r) => r.content === message(from)))
      .map((from) => `${to.name}<-${from.name}`)
  )
