/**
 * Running Effects for Promise callers: every failure, defect or interruption becomes a `TopicTrackerError`
 * whose message reads on its own (some tagged errors of the lower layers carry fields but no message).
 */
import { Cause, Duration, Effect, Exit, Option } from "effect"
import { TopicTrackerError } from "../Errors.js"

type Tagged = { readonly _tag: string; readonly message?: string } & Record<string, unknown>

const isTagged = (u: unknown): u is Tagged =>
  typeof u === "object" && u !== null && typeof (u as { _tag?: unknown })._tag === "string"

const describe = (error: Tagged): string => {
  switch (error._tag) {
    case "JoinTimeout": {
      const after = error["after"]
      // The core error's message says how far discovery got (did the DHT answer, were records seen).
      if (typeof error.message === "string" && error.message !== "") return `${error.message}; the topic was closed`
      return Duration.isDuration(after)
        ? `no peer of the topic was found within ${Duration.format(after)}; the topic was closed`
        : "no peer of the topic was found in time; the topic was closed"
    }
    case "IdentityMismatch":
      return `the gossip endpoint runs as ${String(error["gossip"])} but the node identity is ${
        String(error["identity"])
      }`
    case "GossipMessageTooLarge":
      return `message of ${String(error["size"])} bytes is larger than the maximum of ${String(error["max"])} bytes`
  }
  if (typeof error.message === "string" && error.message !== "") return error.message
  // The tag is already the error's `name`, printed before the message.
  if (typeof error["reason"] === "string") return error["reason"]
  return error._tag
}

/** The error a Promise caller sees for a failed Exit. `interrupted` names the tag used when we cancelled it. */
export const toError = (
  cause: Cause.Cause<unknown>,
  interrupted: { readonly tag: string; readonly message: string }
): TopicTrackerError => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof TopicTrackerError) return error
    if (isTagged(error)) return new TopicTrackerError(error._tag, describe(error), { cause: error })
    return new TopicTrackerError("Defect", `unexpected failure: ${String(error)}`, { cause: error })
  }
  if (Cause.isInterruptedOnly(cause)) return new TopicTrackerError(interrupted.tag, interrupted.message)
  const defect = Cause.squash(cause)
  return new TopicTrackerError("Defect", defect instanceof Error ? defect.message : String(defect), { cause: defect })
}

export const NODE_CLOSED = { tag: "NodeClosed", message: "the node was closed" } as const
export const TOPIC_CLOSED = { tag: "TopicClosed", message: "the topic is closed" } as const

type Interrupted = { readonly tag: string; readonly message: string }

const settle = <A>(exit: Exit.Exit<A, unknown>, interrupted: Interrupted): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw toError(exit.cause, interrupted)
}

/**
 * Run an effect that needs no service (the core `Topic` handles' operations), rejecting with a
 * `TopicTrackerError`; aborting `signal` interrupts it. Such effects do not depend on the node's runtime, so
 * they still settle after the node has been disposed.
 */
export const runPromise = async <A, E>(
  effect: Effect.Effect<A, E>,
  options: { readonly signal?: AbortSignal; readonly interrupted?: Interrupted } = {}
): Promise<A> =>
  settle(
    await Effect.runPromiseExit(effect, options.signal ? { signal: options.signal } : undefined),
    options.interrupted ?? TOPIC_CLOSED
  )

/** Run an effect that needs no service and completes synchronously (reads of in-memory state). */
export const runSync = <A, E>(effect: Effect.Effect<A, E>): A => settle(Effect.runSyncExit(effect), TOPIC_CLOSED)
