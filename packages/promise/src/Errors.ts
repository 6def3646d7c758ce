/**
 * Every rejection of this package is a `TopicTrackerError`: a plain `Error` whose `_tag` names what went wrong
 * (the tag of the library error underneath, or one of the facade's own tags), so callers can branch on
 * `error._tag` without importing anything from Effect. The original error, when there is one, is `cause`.
 */

/** The tags a `TopicTrackerError` can carry. Others may appear for failures of lower layers (e.g. `DhtTimeout`). */
export type ErrorTag =
  /** A function was called with a value of the wrong type, length or range. */
  | "InvalidArgument"
  /** A `config` field had an invalid value; the message names the field. */
  | "InvalidConfig"
  /** `joinTopic` with a timeout: no peer was found in time; the topic was closed. */
  | "JoinTimeout"
  /** `joinTopic` with a `rotation`: its `derive` threw or did not return 32 bytes; the topic was closed. */
  | "RotationFailed"
  /** The topic is closed (by `close`, by its node closing, or because its gossip subscription ended). */
  | "TopicClosed"
  /** The node is closed, or closed while the operation was in flight. */
  | "NodeClosed"
  /** A broadcast did not go out within `config.timeouts.broadcastTimeout` (or the neighbours' one). */
  | "SendTimeout"
  /** A broadcast was larger than the gossip layer's maximum message size. */
  | "GossipMessageTooLarge"
  | "GossipClosed"
  /** The gossip endpoint could not be bound (bad bind address, port in use). */
  | "EndpointBindError"
  | "DhtUnavailable"
  /** `createNode` with `peerCache`: its path is not, and cannot be made, a readable and writable directory. */
  | "PeerCacheUnavailable"
  /** A bug: an exception where none was expected. */
  | "Defect"
  | (string & {})

export class TopicTrackerError extends Error {
  readonly _tag: ErrorTag

  constructor(tag: ErrorTag, message: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this._tag = tag
    // Stack traces and `String(error)` then read "JoinTimeout: ...".
    this.name = tag
  }
}

/** Shorthand for the argument checks at the API's edge. */
export const invalidArgument = (message: string): TopicTrackerError => new TopicTrackerError("InvalidArgument", message)

export const isTopicTrackerError = (u: unknown): u is TopicTrackerError => u instanceof TopicTrackerError
