/**
 * Tracing: a two-node join on the memory network (TestClock) under an in-memory tracer. The join has its span
 * with the topic id; the DHT reads and dials of the join sit below it (through the bootstrap rounds); the
 * publisher's ticks are traces of their own, linked to the join; no attribute carries the secret, a key or bytes.
 */
import { Keys } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { type Context, Effect, type Exit, Option, Tracer } from "effect"
import { advance, advanceUntil, SECRET, startNode, TOPIC } from "./support/sim.js"

/** A span as the tracer saw it: enough to rebuild the tree and read the attributes. */
class RecordedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId: string
  readonly traceId: string
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly links: Array<Tracer.SpanLink>
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    id: number
  ) {
    this.spanId = `span-${id}`
    this.traceId = Option.match(parent, { onNone: () => `trace-${id}`, onSome: (p) => p.traceId })
    this.status = { _tag: "Started", startTime }
    this.links = [...links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    if (this.status._tag === "Started") this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
  }
  event() {}
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.links.push(...links)
  }
}

const recordingTracer = () => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const span = new RecordedSpan(name, parent, context, links, startTime, kind, spans.length)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  return { spans, tracer }
}

/** The span and its ancestors, nearest first (only spans this tracer made). */
const ancestry = (span: RecordedSpan): Array<RecordedSpan> => {
  const out = [span]
  let parent = span.parent
  while (Option.isSome(parent) && parent.value instanceof RecordedSpan) {
    out.push(parent.value)
    parent = parent.value.parent
  }
  return out
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

describe("spans", () => {
  it.scoped("a two-node join: the join span holds its DHT reads and dials; no secret in any attribute", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const a = yield* startNode(sim, 0)
      yield* advance("10 seconds", "1 second")
      const b = yield* startNode(sim, 1)
      expect(yield* advanceUntil(b.isJoined, "30 seconds")).toBeGreaterThanOrEqual(0)
      // Past the publisher's first tick (10 s after joining).
      yield* advance("15 seconds", "1 second")
      expect(yield* a.isJoined).toBe(true)

      const named = (name: string) => spans.filter((s) => s.name === name)
      const joins = named("dtt.topic.join")
      expect(joins).toHaveLength(2)
      for (const join of joins) {
        expect(join.attributes.get("dtt.topic")).toBe(TOPIC.hex)
        expect(join.parent).toEqual(Option.none())
      }

      // Every DHT get and dial descends from a join, or from an actor tick linked to one.
      const isJoin = (s: Tracer.AnySpan) => s instanceof RecordedSpan && s.name === "dtt.topic.join"
      const traceRoot = (s: RecordedSpan) => ancestry(s).at(-1)!
      const underJoin = (s: RecordedSpan) => {
        const root = traceRoot(s)
        return isJoin(root) || root.links.some((link) => isJoin(link.span))
      }
      const gets = named("dtt.dht.get")
      const dials = named("dtt.gossip.dial")
      expect(gets.length).toBeGreaterThan(0)
      expect(dials.length).toBeGreaterThan(0)
      for (const span of [...gets, ...dials, ...named("dtt.dht.put")]) expect(underJoin(span)).toBe(true)
      for (const span of spans) expect(span.attributes.get("dtt.topic")).toBe(TOPIC.hex)

      // The joiner's reads in its trace: a bootstrap round's (get < read < tick < join) and the startup publish's.
      const joiner = joins[1]!
      const chains = (of: ReadonlyArray<RecordedSpan>) =>
        of.filter((s) => s.traceId === joiner.traceId).map((s) => ancestry(s).map((p) => p.name).join(" < "))
      expect(chains(gets)).toContain("dtt.dht.get < dtt.record.read < dtt.bootstrap.tick < dtt.topic.join")
      expect(chains(gets)).toContain("dtt.dht.get < dtt.record.read < dtt.record.publish < dtt.topic.join")
      expect(chains(dials)).toContain("dtt.gossip.dial < dtt.bootstrap.tick < dtt.topic.join")
      // The publisher ticks after the join: a trace of its own, linked to its join.
      const ticks = named("dtt.publisher.tick")
      expect(ticks.length).toBeGreaterThan(0)
      for (const tick of ticks) {
        expect(tick.parent).toEqual(Option.none())
        expect(tick.links.some((link) => isJoin(link.span))).toBe(true)
      }
      expect(named("dtt.record.publish").length).toBeGreaterThan(0)
      for (const get of gets) expect(typeof get.attributes.get("dtt.minute")).toBe("number")

      // No attribute holds bytes, the secret, or any hex but the topic id's (no key, salt, target or secret hash).
      const secretForms = [SECRET, hex(new TextEncoder().encode(SECRET)), hex(Keys.initialSecretHash(SECRET))]
      for (const span of spans) {
        for (const [key, value] of span.attributes) {
          expect(value, key).not.toBeInstanceOf(Uint8Array)
          const text = String(value)
          for (const form of secretForms) expect(text, key).not.toContain(form)
          if (key !== "dtt.topic") expect(text, key).not.toMatch(/[0-9a-f]{16}/i)
        }
      }
    }).pipe(Effect.withTracer(tracer))
  })
})
