/**
 * The impaired private DHT of `e2e/impaired.mjs`: a dht-mainline `Testbed` on one address whose storing nodes
 * answer late (latency, jitter), lose datagrams, and partly never answer. Prints `bootstrap host:port,...` once up;
 * runs until killed or until its stdin closes (so it cannot outlive the script that started it).
 * Usage: tsx --conditions=source e2e/impaired-testbed.ts <host> <size> <one-way ms> <jitter ms> <loss 0..1> <silent 0..1> <seed>
 */
import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { Duration, Effect } from "effect"

const [host, size, oneWay, jitter, loss, silent, seed] = process.argv.slice(2)
if (!host || !size || !oneWay || !jitter || !loss || !silent || !seed) {
  console.error("usage: impaired-testbed.ts <host> <size> <one-way ms> <jitter ms> <loss> <silent share> <seed>")
  process.exit(2)
}
const link = { latency: Duration.millis(Number(oneWay)), jitter: Duration.millis(Number(jitter)), loss: Number(loss) }

Effect.runPromise(
  Effect.scoped(
    Effect.gen(function*() {
      const bed = yield* Testbed.make({
        size: Number(size),
        host,
        seed: Number(seed),
        silentShare: Number(silent),
        // A query and its answer each cross one impaired link: RTT to a storing node = 2 × one-way.
        impairment: { inbound: link, outbound: link }
      })
      console.log(`bootstrap ${bed.bootstrap.join(",")}`)
      console.log(JSON.stringify({ event: "testbed", size: bed.nodes.length, silent: bed.silent }))
      yield* Effect.async<void>((resume) => {
        process.stdin.on("end", () => resume(Effect.void)).on("close", () => resume(Effect.void)).resume()
      })
    })
  ).pipe(Effect.provide(Crypto.layer))
).then(() => process.exit(0), (e) => {
  console.error(String(e))
  process.exit(1)
})
