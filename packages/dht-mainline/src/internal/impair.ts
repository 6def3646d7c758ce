/**
 * How the KRPC endpoint applies an `Impairment`: per datagram, drop it or pass it on after a delay. Delayed
 * datagrams wait in their own fibers (so jitter reorders them, as a real path does), at most
 * `MAX_DELAYED` at a time; beyond that they are dropped like a full router queue.
 */
import { Duration, Effect, Random, type Scope } from "effect"
import type { Impairment, Link } from "../Impairment.js"

export const MAX_DELAYED = 4096

interface LinkMillis {
  readonly latency: number
  readonly jitter: number
  readonly loss: number
}

const millis = (d: Duration.DurationInput | undefined) => (d === undefined ? 0 : Duration.toMillis(Duration.decode(d)))

const linkMillis = (link: Link | undefined): LinkMillis | undefined => {
  if (link === undefined) return undefined
  const l = {
    latency: millis(link.latency),
    jitter: millis(link.jitter),
    loss: Math.min(1, Math.max(0, link.loss ?? 0))
  }
  return l.latency === 0 && l.jitter === 0 && l.loss === 0 ? undefined : l
}

export interface Impair {
  readonly silent: boolean
  /** No delay or loss either way: datagrams may skip `inbound`/`outbound` (and their fibers) altogether. */
  readonly passesThrough: boolean
  /** Runs `deliver` now, later (in a fiber of the scope) or never, as the inbound link decides. */
  readonly inbound: (deliver: Effect.Effect<void>) => Effect.Effect<void>
  readonly outbound: (deliver: Effect.Effect<void>) => Effect.Effect<void>
}

/** `onDrop` counts the datagrams the impairment dropped (loss, or too many delayed at once). */
export const make = (
  impairment: Impairment | undefined,
  onDrop: () => void
): Effect.Effect<Impair, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const random = impairment?.seed === undefined ? yield* Effect.random : Random.make(impairment.seed)
    let delayed = 0
    const through = (link: LinkMillis | undefined) => (deliver: Effect.Effect<void>): Effect.Effect<void> => {
      if (link === undefined) return deliver
      return Effect.gen(function*() {
        if (link.loss > 0 && (yield* random.next) < link.loss) {
          onDrop()
          return
        }
        const delay = Math.max(0, link.latency + (link.jitter > 0 ? (2 * (yield* random.next) - 1) * link.jitter : 0))
        if (delay === 0) return yield* deliver
        if (delayed >= MAX_DELAYED) {
          onDrop()
          return
        }
        delayed++
        yield* deliver.pipe(
          Effect.delay(Duration.millis(delay)),
          Effect.ensuring(Effect.sync(() => delayed--)),
          Effect.forkIn(scope)
        )
      })
    }
    const inbound = linkMillis(impairment?.inbound)
    const outbound = linkMillis(impairment?.outbound)
    return {
      silent: impairment?.silent === true,
      passesThrough: inbound === undefined && outbound === undefined,
      inbound: through(inbound),
      outbound: through(outbound)
    }
  })
