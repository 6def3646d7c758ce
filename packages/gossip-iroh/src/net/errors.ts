/** Typed failures of the IO driver. Everything napi throws is caught and turned into one of these. */
import { Data } from "effect"

/** The endpoint could not be bound (bad bind address, port in use, bad key). */
export class EndpointBindError extends Data.TaggedError("EndpointBindError")<{ readonly reason: string }> {}

/** A dial failed: no address known, timeout, handshake/ALPN failure, or the endpoint is closed. */
export class DialError extends Data.TaggedError("DialError")<{
  readonly peer: string
  readonly reason: "NoAddress" | "Timeout" | "Failed" | "Self"
  readonly detail: string
}> {}

/** A stream operation (open, write, finish) failed; the connection is treated as dead. */
export class StreamError extends Data.TaggedError("StreamError")<{ readonly detail: string }> {}
