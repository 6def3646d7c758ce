/**
 * A joiner reads the previous and the current minute's slot at once (issue 12, a shorter join path; Rust reads
 * them one after the other, so the current slot, where a late joiner's candidates usually are, waited for the
 * previous one). TestClock; the node's DHT delays every get by 100 ms and logs when record gets start and end.
 */
import { Config, Dht } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { advance, joinOn, nodeContext } from "./support/sim.js"

const quiet = (privateSlots: boolean) =>
  Config.decodeSync({
    bootstrap: { publishRecordOnStartup: false, privateSlots },
    publisher: { enabled: false },
    merge: { bubble: { enabled: false }, messageOverlap: { enabled: false } }
  })

/** The start/end log of the record gets of the node's first bootstrap turn. */
const firstTurn = (privateSlots: boolean) =>
  Effect.gen(function*() {
    const sim = yield* SimNetwork.make()
    const context = yield* nodeContext(sim, 0)
    const dht = Context.get(context, Dht.Dht)
    const events: Array<string> = []
    const slow: Dht.DhtService = {
      getMutable: (publicKey, salt) =>
        Effect.gen(function*() {
          if (salt.length > 0) events.push("start")
          yield* Effect.sleep("100 millis")
          const items = yield* dht.getMutable(publicKey, salt)
          if (salt.length > 0) events.push("end")
          return items
        }),
      putMutable: (item, options) => dht.putMutable(item, options)
    }
    yield* joinOn(Context.add(context, Dht.Dht, slow), { config: quiet(privateSlots) })
    yield* advance("300 millis", "10 millis")
    return events
  })

describe("bootstrap slot reads", () => {
  it.scoped("the current slot's get starts before the previous slot's get has finished (compatible slots only)", () =>
    Effect.gen(function*() {
      const events = yield* firstTurn(false)
      // One loop turn of a node that finds nothing: two slot reads, then the rest (noPeersRetryInterval, 1.5 s).
      expect(events.slice(0, 4)).toEqual(["start", "start", "end", "end"])
    }))

  it.scoped("with private slots, all four gets of a turn (two minutes, two slot kinds) start before any ends", () =>
    Effect.gen(function*() {
      const events = yield* firstTurn(true)
      // Reading the minutes one after the other would log start, start, end, end, start, start, end, end here.
      expect(events.slice(0, 8)).toEqual(["start", "start", "start", "start", "end", "end", "end", "end"])
    }))
})
