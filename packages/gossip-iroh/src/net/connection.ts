/**
 * One QUIC connection to a peer, as iroh-gossip uses it (spec iroh-gossip.md §1.3-1.4): only uni streams, one per
 * (direction, topic), each starting with the 32-byte topic header frame, then one length-prefixed postcard
 * `TopicMessage` per frame.
 *
 * Send side: one fiber writes queued frames in order (at most one `writeAll` in flight per stream; consecutive
 * frames of a topic, length prefixes included, go out in one call). After a `Disconnect` frame the topic stream
 * is finished and forgotten, so the next message for that topic opens a new stream, as Rust does. `endSending` drains the queue, finishes every stream
 * and waits (bounded) for the peer to acknowledge them.
 *
 * Receive side: one fiber accepts uni streams; the header is read before the next stream is accepted (a bad
 * header ends the receive side, as in Rust); every stream then has its own reader fiber. A bad frame drops only
 * that stream. Everything the peer sends is bounded by the frame decoder's maximum size.
 */
import { Bytes, type EndpointId as Id } from "@dtt/core"
import { Deferred, Duration, Effect, Either, Fiber, Option, Queue, type Scope } from "effect"
import {
  decodeStreamHeader,
  decodeTopicMessage,
  encodeStreamHeaderFrame,
  FrameDecoder,
  type TopicMessage
} from "../wire/index.js"
import { StreamError } from "./errors.js"
import * as Iroh from "./iroh.js"

type EndpointId = Id.EndpointId

/** Topics are keyed by their 64-hex form inside the driver. */
export type TopicKey = string

export const topicKey: (topic: Uint8Array) => TopicKey = Bytes.toHex
export const topicBytes = (key: TopicKey): Uint8Array => new Uint8Array(Buffer.from(key, "hex"))

export interface OutgoingFrame {
  readonly topic: TopicKey
  /** The complete frame (length prefix included), already checked against the maximum size. */
  readonly frame: Uint8Array
  /** A `Swarm(Disconnect)` frame: finish the topic stream after it. */
  readonly closesStream: boolean
}

export interface ConnectionHandlers {
  readonly onMessage: (from: EndpointId, topic: TopicKey, message: TopicMessage) => Effect.Effect<void>
  /** Called once, when the connection is closed (by either side) or its loops failed. */
  readonly onClosed: (conn: PeerConnection, reason: string) => Effect.Effect<void>
}

export interface PeerConnection {
  /** Unique within this node (napi `stableId` is only unique per endpoint and we want our own ordering). */
  readonly seq: number
  readonly remote: EndpointId
  /** Strong reference: napi closes a connection whose JS handle is collected. */
  readonly raw: Iroh.Connection
  readonly origin: "dial" | "accept"
  /**
   * Queues a frame. When the queue is full it waits (up to `sendQueueTimeout`) for room: that back-pressure
   * reaches the broadcaster through the driver's bounded inbox. False when the connection no longer sends, or
   * the wait timed out (the frame is dropped; the caller counts it). After one timed-out wait, further frames are
   * dropped at once until the queue has room again, so a stuck peer costs the actor one timeout, not one per frame.
   */
  readonly send: (frame: OutgoingFrame) => Effect.Effect<boolean>
  /**
   * Stops sending: drains what is queued, finishes every stream, and waits up to 5 s for the peer to
   * acknowledge them, including streams finished earlier after a Disconnect (closing the QUIC connection before
   * those acknowledgements discards data still in flight).
   */
  readonly endSending: Effect.Effect<void>
  /** Closes the QUIC connection (error code 0, as Rust's `close from disconnect`). */
  readonly close: (reason: string) => Effect.Effect<void>
  /** Open receive streams right now (used to decide when a lingering connection is idle). */
  readonly openReceiveStreams: () => number
  /** False once sending stopped (`endSending`, a write error, or the connection closed). */
  readonly isSending: () => boolean
  readonly closed: Effect.Effect<string>
}

export interface ConnectionOptions {
  readonly maxMessageSize: number
  /** Frames a connection may queue before `send` waits for room (Rust: 64, waiting without a bound). */
  readonly sendQueueCapacity: number
  /** How long `send` waits for room in a full queue before it drops the frame. */
  readonly sendQueueTimeout: Duration.DurationInput
}

const READ_CHUNK = 65_536
/** Frames taken from the send queue at once, and the most bytes one `writeAll` carries. */
const MAX_BATCH = 256
const MAX_WRITE_BYTES = 32_768
const STOPPED_WAIT = Duration.seconds(5)

let nextSeq = 0

const END = Symbol("end of sending")

const tryNapi = <A>(f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (e) => new StreamError({ detail: Iroh.napiErrorMessage(e) }) })

const ignore = (p: Promise<unknown>) => {
  p.then(
    () => undefined,
    () => undefined
  )
}

/** Reads the next frame payload of a stream, or None at a clean end of stream. */
const nextFrame = (
  stream: Iroh.RecvStream,
  decoder: FrameDecoder
): Effect.Effect<Option.Option<Uint8Array>, StreamError> =>
  Effect.gen(function*() {
    while (true) {
      const ready = decoder.next()
      if (Either.isLeft(ready)) {
        return yield* new StreamError({ detail: `frame of ${ready.left.size} bytes exceeds ${ready.left.max}` })
      }
      if (Option.isSome(ready.right)) return ready.right
      const chunk = yield* tryNapi(() => stream.read(READ_CHUNK))
      if (chunk.length === 0) {
        const end = decoder.end()
        if (Either.isLeft(end)) return yield* new StreamError({ detail: "stream ended inside a frame" })
        return Option.none()
      }
      decoder.push(Iroh.fromNapiBytes(chunk))
    }
  })

/**
 * Starts the send and receive loops of a connection in `scope`. The loops end when the connection closes; then
 * `onClosed` runs once.
 */
export const start = (
  remote: EndpointId,
  raw: Iroh.Connection,
  origin: "dial" | "accept",
  options: ConnectionOptions,
  handlers: ConnectionHandlers,
  scope: Scope.Scope
): Effect.Effect<PeerConnection> =>
  Effect.gen(function*() {
    const seq = nextSeq++
    // Unbounded queue with our own capacity check, so the end marker can always be queued.
    const queue = yield* Queue.unbounded<OutgoingFrame | typeof END>()
    const sendStreams = new Map<TopicKey, Iroh.SendStream>()
    let sending = true
    let queued = 0
    let receiving = 0
    /** Set when a wait for room timed out; cleared when room appears (see `send`). */
    let congested = false
    let roomWaiters: Array<() => void> = []
    const wakeRoomWaiters = () => {
      congested = false
      const waiters = roomWaiters
      roomWaiters = []
      for (const wake of waiters) wake()
    }
    /** Background finishes of streams closed by a Disconnect; `endSending` waits for them. */
    const finishing = new Set<Fiber.RuntimeFiber<void>>()
    const closedSignal = yield* Deferred.make<string>()
    const sendDone = yield* Deferred.make<void>()

    const closeRaw = (reason: string) =>
      Effect.sync(() => {
        try {
          raw.close(0n, Iroh.toNapiBytes(new TextEncoder().encode(reason)))
        } catch {
          // already closed
        }
      })

    /** The open stream of a topic, or a new one (its header is then written together with the first frames). */
    const streamFor = (topic: TopicKey) =>
      Effect.gen(function*() {
        const existing = sendStreams.get(topic)
        if (existing !== undefined) return { stream: existing, header: undefined }
        const stream = yield* tryNapi(() => raw.openUni())
        sendStreams.set(topic, stream)
        return { stream, header: Either.getOrThrow(encodeStreamHeaderFrame(topicBytes(topic))) }
      })

    const finishStream = (stream: Iroh.SendStream) =>
      tryNapi(() => stream.finish()).pipe(
        Effect.zipRight(tryNapi(() => stream.stopped())),
        Effect.timeout(STOPPED_WAIT),
        Effect.ignore
      )

    /**
     * Writes consecutive frames of one topic with a single `writeAll`: every napi call costs a round trip through
     * the binding, so a burst goes out as one buffer (the bytes on the stream are the same). After a Disconnect
     * frame the stream is finished; the next message for the topic opens a fresh one.
     */
    const writeRun = (topic: TopicKey, frames: ReadonlyArray<Uint8Array>, closesStream: boolean) =>
      Effect.gen(function*() {
        const { stream, header } = yield* streamFor(topic)
        const parts = header === undefined ? frames : [header, ...frames]
        const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
        yield* tryNapi(() => stream.writeAll(Iroh.toNapiBytes(bytes)))
        if (closesStream) {
          sendStreams.delete(topic)
          // The peer acknowledges in the background.
          const fiber = yield* finishStream(stream).pipe(Effect.forkIn(scope))
          finishing.add(fiber)
          fiber.addObserver(() => finishing.delete(fiber))
        }
      })

    /** Writes a batch taken from the queue, in order, as runs of same-topic frames; true when END was reached. */
    const writeBatch = (batch: ReadonlyArray<OutgoingFrame | typeof END>) =>
      Effect.gen(function*() {
        let run: Array<Uint8Array> = []
        let runTopic: TopicKey | undefined
        let runBytes = 0
        const flush = (closes: boolean) =>
          Effect.suspend(() => {
            if (runTopic === undefined) return Effect.void
            const [topic, frames] = [runTopic, run]
            run = []
            runTopic = undefined
            runBytes = 0
            return writeRun(topic, frames, closes)
          })
        for (const item of batch) {
          if (item === END) {
            yield* flush(false)
            return true
          }
          queued--
          if (roomWaiters.length > 0 || congested) wakeRoomWaiters()
          if (item.topic !== runTopic || runBytes + item.frame.length > MAX_WRITE_BYTES) yield* flush(false)
          runTopic = item.topic
          run.push(item.frame)
          runBytes += item.frame.length
          if (item.closesStream) yield* flush(true)
        }
        yield* flush(false)
        return false
      })

    // The send fiber writes frames in order until the end marker, then finishes every stream it opened. A write
    // error means the connection is unusable: close it (Rust ends the whole connection loop on a send error).
    yield* Effect.gen(function*() {
      while (true) {
        // Block for one item, then take whatever else is already queued.
        const first = yield* Queue.take(queue)
        const rest = yield* Queue.takeUpTo(queue, MAX_BATCH - 1)
        if (yield* writeBatch([first, ...rest])) break
      }
      const streams = [...sendStreams.values()]
      sendStreams.clear()
      yield* Effect.forEach(streams, finishStream, { concurrency: "unbounded", discard: true })
    }).pipe(
      Effect.catchAll((e) => closeRaw(`send failed: ${e.detail}`)),
      // `sending` goes false before the queue is shut down: offering to a shut-down queue interrupts the offerer,
      // and the offerer is the driver's actor fiber.
      Effect.ensuring(
        Effect.suspend(() => {
          sending = false
          wakeRoomWaiters()
          return Effect.zipRight(Queue.shutdown(queue), Deferred.succeed(sendDone, undefined))
        })
      ),
      Effect.forkIn(scope)
    )

    const stopSending = Effect.suspend(() => {
      if (!sending) return Effect.void
      sending = false
      return Queue.offer(queue, END)
    })

    const readStream = (stream: Iroh.RecvStream, decoder: FrameDecoder, topic: TopicKey) =>
      Effect.gen(function*() {
        while (true) {
          const payload = yield* nextFrame(stream, decoder)
          if (Option.isNone(payload)) return
          const message = decodeTopicMessage(payload.value)
          // Rust drops the stream on an undecodable frame; the connection and its other streams live on.
          if (Either.isLeft(message)) return yield* new StreamError({ detail: `bad frame: ${message.left.reason}` })
          yield* handlers.onMessage(remote, topic, message.right)
        }
      }).pipe(
        Effect.catchAll(() => Effect.sync(() => ignore(stream.stop(0n)))),
        Effect.ensuring(Effect.sync(() => receiving--))
      )

    // The receive fiber: accepts streams until the connection dies. A header that does not decode ends the
    // receive side for good (as in Rust), and we close the connection rather than keep a deaf one.
    yield* Effect.gen(function*() {
      while (true) {
        const stream = yield* tryNapi(() => raw.acceptUni())
        receiving++
        const decoder = new FrameDecoder(options.maxMessageSize)
        const header = yield* nextFrame(stream, decoder).pipe(Effect.either)
        if (Either.isLeft(header) || Option.isNone(header.right)) {
          receiving--
          if (Either.isLeft(header)) return yield* header.left
          continue
        }
        const topic = decodeStreamHeader(header.right.value)
        if (Either.isLeft(topic)) {
          receiving--
          return yield* new StreamError({ detail: "bad stream header" })
        }
        yield* readStream(stream, decoder, topicKey(topic.right)).pipe(Effect.forkIn(scope))
      }
    }).pipe(
      Effect.catchAll((e) => closeRaw(e.detail)),
      Effect.forkIn(scope)
    )

    const waitForRoom = Effect.async<void>((resume) => {
      const wake = () => resume(Effect.void)
      roomWaiters.push(wake)
      return Effect.sync(() => {
        roomWaiters = roomWaiters.filter((w) => w !== wake)
      })
    })

    const send = (frame: OutgoingFrame): Effect.Effect<boolean> =>
      Effect.suspend(() => {
        if (!sending) return Effect.succeed(false)
        if (queued < options.sendQueueCapacity) {
          queued++
          return Queue.offer(queue, frame)
        }
        if (congested) return Effect.succeed(false)
        return waitForRoom.pipe(
          Effect.timeout(options.sendQueueTimeout),
          Effect.matchEffect({
            onFailure: () =>
              Effect.sync(() => {
                congested = true
                return false
              }),
            onSuccess: () => send(frame)
          })
        )
      })

    const self: PeerConnection = {
      seq,
      remote,
      raw,
      origin,
      send: (frame) => send(frame),
      endSending: Effect.zipRight(stopSending, Deferred.await(sendDone)).pipe(
        Effect.zipRight(Effect.suspend(() => Fiber.awaitAll([...finishing]))),
        Effect.asVoid
      ),
      close: (reason) => closeRaw(reason),
      openReceiveStreams: () => receiving,
      isSending: () => sending,
      closed: Deferred.await(closedSignal)
    }

    // Connection end: `closed()` resolves when either side closes or the connection times out.
    yield* Effect.gen(function*() {
      const reason = yield* Effect.tryPromise(() => raw.closed()).pipe(
        Effect.catchAll((e) => Effect.succeed(Iroh.napiErrorMessage(e.error)))
      )
      yield* stopSending
      yield* Deferred.succeed(closedSignal, reason)
      yield* handlers.onClosed(self, reason)
    }).pipe(Effect.forkIn(scope))

    return self
  })
