/**
 * Latency and loss settings shared by the in-memory DHT and gossip networks: both keep the figures as plain
 * mutable fields that their delivery paths read on every message, so a change applies to what is sent next.
 */
import { Duration, Effect } from "effect"

export interface Impairable {
  latencyMillis: number
  jitterMillis: number
  loss: number
}

export const setLatency = (
  network: Impairable,
  latency: Duration.DurationInput,
  jitter: Duration.DurationInput = 0
): Effect.Effect<void> =>
  Effect.sync(() => {
    network.latencyMillis = Duration.toMillis(latency)
    network.jitterMillis = Duration.toMillis(jitter)
  })

export const setLoss = (network: Impairable, loss: number): Effect.Effect<void> =>
  Effect.sync(() => {
    if (!(loss >= 0 && loss <= 1)) throw new RangeError("loss must be within [0, 1]")
    network.loss = loss
  })
