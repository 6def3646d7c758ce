/**
 * Tracing: the span names and the two ways a topic's work is wrapped in a span. Every span carries the topic id
 * (`dtt.topic`, hex; anyone who knows the topic name can compute it). Never the secret, a key, a salt or a slot
 * target: attributes are the minute (`dtt.minute`, a number: exporters take no bigint), counts and outcomes.
 *
 * With no tracer installed, Effect's default one only builds cheap in-memory spans; span ids come from
 * `Math.random`, not `Random`, so tests stay reproducible. No stack trace is captured: it would only ever point
 * here, and it costs an `Error` per DHT operation.
 */
import { Effect, Option, type Tracer } from "effect"
import type { TopicId } from "../TopicId.js"

/** The span names, short and stable: dashboards and tests key on them. */
export const SpanName = {
  join: "dtt.topic.join",
  rediscover: "dtt.topic.rediscover",
  bootstrapTick: "dtt.bootstrap.tick",
  publisherTick: "dtt.publisher.tick",
  bubbleTick: "dtt.merge.bubble.tick",
  overlapTick: "dtt.merge.overlap.tick",
  read: "dtt.record.read",
  publish: "dtt.record.publish",
  dhtGet: "dtt.dht.get",
  dhtPut: "dtt.dht.put",
  dial: "dtt.gossip.dial"
} as const

type Attributes = Readonly<Record<string, unknown>>

/** `self` in a child span of the current one, named `name`, with the topic id and `attributes`. */
export const withTopicSpan =
  (name: string, topicId: TopicId, attributes: Attributes = {}) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withSpan(self, name, { attributes: { "dtt.topic": topicId.hex, ...attributes }, captureStackTrace: false })

/**
 * As `withTopicSpan`, but a root span (its own trace) linked to the current span, for the ticks of actors that
 * run as long as the topic: under the join span, a day-long topic would grow one trace without end. The link
 * still leads from each tick to the join that started its actor.
 */
export const withActorSpan =
  (name: string, topicId: TopicId) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.option(Effect.currentParentSpan), (parent) =>
      Effect.withSpan(self, name, {
        root: true,
        links: Option.match(parent, {
          onNone: () => [],
          onSome: (span): Array<Tracer.SpanLink> => [{ _tag: "SpanLink", span, attributes: {} }]
        }),
        attributes: { "dtt.topic": topicId.hex },
        captureStackTrace: false
      }))
