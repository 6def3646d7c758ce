/**
 * Closing an iroh endpoint without making the caller wait out the QUIC closing period.
 *
 * `Endpoint.close()` resolves once every connection has drained: at once when the peer answers our
 * CONNECTION_CLOSE with its own, otherwise only when the closing period (three probe timeouts) ends. On
 * loopback about every second close of a joined node got no answer and took 3 s (bench/results/burst.json).
 * What we sent is already acknowledged by then (the driver's drain waits for the peers to acknowledge every
 * stream before the connections are closed), so that wait concerns the close frame alone. We give it `wait`,
 * then let iroh finish in the background (it keeps retransmitting the close until the period ends) and run
 * `onClosed` when it has.
 */
import { Duration, Effect } from "effect"

/** How long closing waits for the peers to answer our CONNECTION_CLOSE (about one round trip is enough). */
export const DEFAULT_CLOSE_WAIT: Duration.Duration = Duration.millis(250)

export const closeEndpoint = (
  endpoint: { readonly close: () => Promise<void> },
  wait: Duration.DurationInput,
  onClosed: () => void
): Effect.Effect<void> =>
  Effect.suspend(() => {
    const closing = endpoint.close().then(onClosed, onClosed).catch(() => undefined)
    // Finalizers run uninterruptibly: the timeout can only cut the wait inside `interruptible`.
    return Effect.promise(() => closing).pipe(Effect.interruptible, Effect.timeout(wait), Effect.ignore)
  })
