/**
 * Answers stale traffic on topics we just left. Quit tells only the active view. A peer that accepted our Join a
 * moment before we left (its Neighbor reply was still in flight) never hears it and keeps us as a neighbour for as
 * long as the connection lives; Rust iroh-gossip ignores messages for unknown topics and has the same race. So
 * when such a peer talks to us on a topic we left within `LEFT_TOPIC_MEMORY`, we answer once with what Quit would
 * have sent it: `Disconnect{alive: false}` (handled by any iroh-gossip peer as a neighbour leaving).
 */
import type { EndpointId as Id } from "@dtt/core"
import { Effect, Either } from "effect"
import type { TopicId } from "../../proto/events.js"
import { encodeMessageFrame } from "../../wire/index.js"
import type { TopicMessage } from "../../wire/messages.js"
import type { ProtocolIo } from "./protocolIo.js"
import { type DriverState, now } from "./state.js"

type EndpointId = Id.EndpointId

/** How long we answer stale traffic on a topic we left, for how many topics, and how many peers per topic. */
const LEFT_TOPIC_MEMORY = 60_000
const LEFT_TOPICS_MAX = 64
const LEFT_TOPIC_MAX_ANSWERS = 64

const LEFT_TOPIC_DISCONNECT = Either.getOrThrow(
  encodeMessageFrame({ _tag: "Swarm", message: { _tag: "Disconnect", alive: false, respond: false } }, 512)
)

/** Remembers a topic we just left (the oldest one goes when too many are remembered). */
export const rememberLeftTopic = (state: DriverState, topic: TopicId) =>
  Effect.gen(function*() {
    const { leftTopics } = state
    if (leftTopics.size >= LEFT_TOPICS_MAX) leftTopics.delete(leftTopics.keys().next().value!)
    leftTopics.set(topic, { until: (yield* now) + LEFT_TOPIC_MEMORY, answered: new Set() })
  })

export const answerLeftTopic = (
  state: DriverState,
  io: ProtocolIo,
  from: EndpointId,
  topic: TopicId,
  message: TopicMessage
) =>
  Effect.gen(function*() {
    if (state.topics.has(topic)) return
    const left = state.leftTopics.get(topic)
    if (left === undefined) return
    if (left.until <= (yield* now)) {
      state.leftTopics.delete(topic)
      return
    }
    if (message._tag === "Swarm" && message.message._tag === "Disconnect") return
    if (left.answered.has(from) || left.answered.size >= LEFT_TOPIC_MAX_ANSWERS) return
    left.answered.add(from)
    yield* io.sendFrame(from, { topic, frame: LEFT_TOPIC_DISCONNECT, closesStream: true })
  })
