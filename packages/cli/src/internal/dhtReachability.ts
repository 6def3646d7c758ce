/**
 * A plain word when the DHT cannot be reached. Offline machines, trains and firewalls that drop UDP otherwise
 * leave a chat "joining ..." forever with nothing said: every DHT request fails quietly and discovery retries.
 *
 * Watches the node's DHT counters: once requests have failed and none has succeeded for `quietFor`, it prints
 * what is wrong and what to try, once; if the DHT answers later it says so, and would warn again after another
 * silent stretch.
 */
import { Duration, Effect } from "effect"
import type { DhtCounters } from "../PeerNode.js"

export interface WatchOptions {
  /** How long failures with no success at all count as "unreachable". Default 8 s: with the first failure ~2 s after start, users are told within ~10 s. */
  readonly quietFor?: Duration.DurationInput
  /** Polling interval of the counters (local reads). */
  readonly every?: Duration.DurationInput
}

export const unreachableMessage = (bootstrap: ReadonlyArray<string>, quietSeconds: number): string =>
  [
    `* no DHT node answered in ${quietSeconds} s (${
      bootstrap.length > 0 ? `bootstrap ${bootstrap.join(", ")}` : "the public mainline DHT's routers"
    }).`,
    "  This machine may be offline, or a firewall drops UDP. Discovery keeps retrying. To try:",
    "  --bootstrap host:port of a DHT node you can reach, or a private DHT: `dtt testbed`, then --bootstrap with the address it prints."
  ].join("\n")

export const reachableAgainMessage = "* the DHT answers again"

/** Runs until interrupted (fork it in the chat's scope); prints the two messages above. */
export const watch = (
  counters: DhtCounters,
  bootstrap: ReadonlyArray<string>,
  print: (line: string) => Effect.Effect<void>,
  options: WatchOptions = {}
): Effect.Effect<never> =>
  watchChanges(
    counters,
    (change) =>
      print(change._tag === "Unreachable" ? unreachableMessage(bootstrap, change.quietSeconds) : reachableAgainMessage),
    options
  )

export type ReachabilityChange =
  | { readonly _tag: "Unreachable"; readonly quietSeconds: number }
  | { readonly _tag: "Reachable" }

/** The same watch as data, for renderings other than text (`dtt chat --json`). */
export const watchChanges = (
  counters: DhtCounters,
  report: (change: ReachabilityChange) => Effect.Effect<void>,
  options: WatchOptions = {}
): Effect.Effect<never> => {
  const quietFor = Duration.decode(options.quietFor ?? Duration.seconds(8))
  const every = options.every ?? Duration.seconds(1)
  return Effect.gen(function*() {
    let warned = false
    let lastAnswered = counters.answered
    let lastFailed = counters.failed
    let silentFor = Duration.zero
    while (true) {
      yield* Effect.sleep(every)
      const answered = counters.answered > lastAnswered
      const failed = counters.failed > lastFailed
      lastAnswered = counters.answered
      lastFailed = counters.failed
      if (answered) {
        silentFor = Duration.zero
        if (warned) yield* report({ _tag: "Reachable" })
        warned = false
        continue
      }
      // Only failures count: a node that simply has nothing to ask is not "unreachable".
      if (failed || Duration.greaterThan(silentFor, Duration.zero)) silentFor = Duration.sum(silentFor, every)
      if (!warned && Duration.greaterThanOrEqualTo(silentFor, quietFor) && counters.failed > 0) {
        warned = true
        yield* report({ _tag: "Unreachable", quietSeconds: Math.round(Duration.toSeconds(quietFor)) })
      }
    }
  })
}
