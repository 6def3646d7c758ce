/**
 * One e2e node: joins a topic through a private DHT, bound to one address (its network namespace's), relays off.
 * Prints JSON lines on stdout ({"event":"joined"|"received"|"up"|"down", ...}); each stdin line is broadcast.
 * Usage: tsx --conditions=source e2e/node.ts <addr> <bootstrap host:port> <topic> <secret>
 * Standalone (docker/): with E2E_SAY the node broadcasts that line every 3 s once joined (no stdin driver), and
 * with E2E_EXPECT=k it exits 0 10 s after it has received k distinct lines from others (the docker assertion).
 * E2E_GOSSIP_BIND=ip:port binds gossip there (default <addr>:0); E2E_ADVERTISE=ip:port[,...] publishes those
 * addresses instead of the bound one (e2e/impaired.mjs: the node's front on the impairment relay);
 * E2E_DHT_REQUEST_TIMEOUT_MS sets the DHT client's per-request timeout (default 2 s).
 */
import { Config, NodeIdentity, Topic, TopicId } from "@dtt/core"
import { Effect, Layer, Stream } from "effect"
import * as readline from "node:readline"
import * as PeerNode from "../packages/cli/src/PeerNode.js"

const [addr, bootstrap, topicName, secret] = process.argv.slice(2)
if (!addr || !bootstrap || !topicName || !secret) {
  console.error("usage: node.ts <addr> <bootstrap host:port> <topic> <secret>")
  process.exit(2)
}
const expect = Number(process.env.E2E_EXPECT ?? 0)
const seen = new Set<string>()
let said = 0
let done = false
const out = (o: object) => Effect.sync(() => process.stdout.write(JSON.stringify(o) + "\n"))

const lines = Stream.async<string>((emit) => {
  const rl = readline.createInterface({ input: process.stdin, terminal: false })
  rl.on("line", (l) => void emit.single(l))
  rl.on("close", () => void emit.end())
})

const program = Effect.scoped(
  Effect.gen(function*() {
    const identity = NodeIdentity.generate()
    const context = yield* Layer.build(
      PeerNode.layer(
        {
          identity,
          dht: {
            host: addr,
            bootstrap: [bootstrap],
            ...(process.env.E2E_DHT_REQUEST_TIMEOUT_MS
              ? { requestTimeout: Number(process.env.E2E_DHT_REQUEST_TIMEOUT_MS) }
              : {})
          },
          gossip: {
            bindAddr: process.env.E2E_GOSSIP_BIND ?? `${addr}:0`,
            preset: "minimal",
            relay: { _tag: "Disabled" },
            ...(process.env.E2E_ADVERTISE ? { advertisedAddresses: process.env.E2E_ADVERTISE.split(",") } : {})
          }
        },
        PeerNode.makeCounters()
      )
    )
    const topic = yield* Topic.joinNoWait(TopicId.fromName(topicName), { secret, config: Config.defaults }).pipe(
      Effect.provide(context)
    )
    const [sender, receiver] = yield* topic.split
    yield* out({ event: "started", id: String(identity.endpointId) })
    yield* Effect.forkScoped(
      receiver.events.pipe(
        Stream.runForEach((e) => {
          switch (e._tag) {
            case "Received": {
              const content = new TextDecoder().decode(e.content)
              seen.add(content.replace(/ #\d+$/, ""))
              return Effect.zipRight(
                out({ event: "received", from: String(e.deliveredFrom), content }),
                expect > 0 && seen.size >= expect
                  ? Effect.sync(() => {
                    if (done) return
                    done = true
                    process.stdout.write(JSON.stringify({ event: "all-received", count: seen.size }) + "\n")
                    // Keep saying our line a while so nodes that joined later get it too, then exit 0.
                    setTimeout(() => process.exit(0), 10_000)
                  })
                  : Effect.void
              )
            }
            case "NeighborUp":
              return out({ event: "up", peer: String(e.peer) })
            case "NeighborDown":
              return out({ event: "down", peer: String(e.peer) })
            default:
              return Effect.void
          }
        })
      )
    )
    yield* Effect.forkScoped(Effect.zipRight(topic.joined, out({ event: "joined" })))
    const say = process.env.E2E_SAY
    if (say) {
      yield* Effect.forkScoped(
        Effect.zipRight(
          topic.joined,
          Effect.forever(
            Effect.zipRight(
              // A fresh sequence number each time: gossip drops a repeat of the same bytes as already seen.
              Effect.suspend(() => Effect.ignore(sender.broadcast(new TextEncoder().encode(`${say} #${++said}`)))),
              Effect.sleep("3 seconds")
            )
          )
        )
      )
    }
    yield* Stream.runForEach(lines, (line) =>
      Effect.gen(function*() {
        yield* topic.joined
        const r = yield* Effect.either(sender.broadcast(new TextEncoder().encode(line)))
        yield* out({ event: r._tag === "Right" ? "sent" : "send-failed", content: line })
      }))
  })
)
Effect.runPromise(program).then(
  () => process.exit(0),
  (e) => {
    console.error(String(e))
    process.exit(1)
  }
)
