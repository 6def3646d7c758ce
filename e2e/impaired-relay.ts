/**
 * The gossip-path relay of `e2e/impaired.mjs` (testkit `UdpRelay`): one front per node, every link impaired
 * alike. Prints `{"event":"relay",...}` once bound. Each stdin line is a JSON command:
 *   {"blackhole": {"a": [names], "b": [names], "on": true|false}}   cut or restore both directions
 *   {"stats": true}                                                  print the counters
 * Usage: tsx --conditions=source e2e/impaired-relay.ts '<json {members, oneWayMs, jitterMs, loss, reorder, seed}>'
 */
import { UdpRelay } from "@dtt/testkit"
import { Duration, Effect } from "effect"
import * as readline from "node:readline"

interface Spec {
  readonly members: ReadonlyArray<UdpRelay.Member>
  readonly oneWayMs: number
  readonly jitterMs: number
  readonly loss: number
  readonly reorder: number
  readonly seed: number
}
const spec = JSON.parse(process.argv[2] ?? "{}") as Spec
const out = (o: object) => process.stdout.write(JSON.stringify(o) + "\n")

Effect.runPromise(
  Effect.scoped(
    Effect.gen(function*() {
      const relay = yield* UdpRelay.make({
        members: spec.members,
        seed: spec.seed,
        link: {
          latency: Duration.millis(spec.oneWayMs),
          jitter: Duration.millis(spec.jitterMs),
          loss: spec.loss,
          reorder: spec.reorder
        }
      })
      out({ event: "relay", fronts: Object.fromEntries(relay.fronts) })
      const rl = readline.createInterface({ input: process.stdin, terminal: false })
      rl.on("line", (line) => {
        try {
          const cmd = JSON.parse(line)
          if (cmd.blackhole) relay.blackhole(cmd.blackhole.a, cmd.blackhole.b, cmd.blackhole.on === true)
          out({ event: "stats", ...relay.stats })
        } catch (e) {
          out({ event: "error", message: String(e) })
        }
      })
      yield* Effect.async<void>((resume) => void rl.on("close", () => resume(Effect.void)))
    })
  )
).then(
  () => process.exit(0),
  (e) => {
    console.error(String(e))
    process.exit(1)
  }
)
