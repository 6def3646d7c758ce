/**
 * Exporting the library's spans and metrics through `@effect/opentelemetry`. Two nodes join one topic on the
 * testkit's in-memory doubles and one greets the other; the OpenTelemetry SDK layer collects every span
 * (`dtt.topic.join`, `dtt.bootstrap.tick`, `dtt.record.read`, `dtt.dht.get`, …) and every `dtt_*` metric.
 *
 * In-memory exporters keep the example self-contained: it prints the span tree and the metric values. Against a
 * collector, put an OTLP exporter in their place (for example `OTLPTraceExporter` and `OTLPMetricExporter` from
 * `@opentelemetry/exporter-*-otlp-http`), or use `Otlp.layer` from `@effect/opentelemetry`, which needs only an
 * `HttpClient`. The topic id (`dtt.topic`, the hash of the name) is an attribute of the spans; the secret never is.
 *
 *   npx tsx examples/otel.ts
 */
import { Crypto, Topic, TopicId } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { NodeSdk } from "@effect/opentelemetry"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Scope } from "effect"

const topicId = TopicId.fromName("examples/otel")
const secret = "a secret both nodes know"

const spans = new InMemorySpanExporter()
const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
// A long interval: the example flushes once, by hand, after the message arrived.
const metricReader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 })

const Telemetry = NodeSdk.layer(() => ({
  resource: { serviceName: "dtt-example" },
  spanProcessor: new SimpleSpanProcessor(spans),
  metricReader
}))

const joinOn = (sim: SimNetwork.SimNetwork, index: number, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const services = yield* Layer.buildWithScope(Layer.merge(sim.node(index), Crypto.layerNode), scope)
    return yield* Topic.joinNoWait(topicId, { secret }).pipe(Effect.provide(services), Scope.extend(scope))
  })

const greet = Effect.gen(function*() {
  const sim = yield* SimNetwork.make()
  const scope = yield* Effect.scope
  const alice = yield* joinOn(sim, 0, scope)
  const bob = yield* joinOn(sim, 1, scope)
  const inbox = yield* bob.receiver
  yield* Effect.all([alice.joined, bob.joined], { concurrency: 2 })
  const sender = yield* alice.sender
  yield* sender.broadcast(new TextEncoder().encode("hello from alice"))
  while ((yield* inbox.next)._tag !== "Received") {
    // neighbour events before the message: keep reading
  }
  console.log("bob got alice's message")
  // Read the exporters before the SDK layer closes: shutting the in-memory span exporter down empties it.
  yield* Effect.promise(() => metricReader.forceFlush())
  report(spans.getFinishedSpans(), metrics.getMetrics().at(-1))
})

/** The finished spans as a tree, then the value of every `dtt_*` metric. */
const report = (finished: ReadonlyArray<ReadableSpan>, collected: ResourceMetrics | undefined) => {
  console.log(`spans exported: ${finished.length}`)
  printTree(finished)
  const dtt = (collected?.scopeMetrics ?? []).flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name.startsWith("dtt_"))
  console.log(`dtt metrics exported: ${dtt.length}`)
  for (const metric of dtt) {
    // Summed over the attribute sets (outcomes, kinds); a histogram shows how many values it recorded.
    const total = metric.dataPoints.reduce(
      (sum, point) => sum + (typeof point.value === "number" ? point.value : point.value.count),
      0
    )
    console.log(`  ${metric.descriptor.name} ${total}`)
  }
}

/** One line per span name under its parent, with how many there were; the topic is printed once, at the root. */
const printTree = (finished: ReadonlyArray<ReadableSpan>) => {
  const ids = new Set(finished.map((span) => span.spanContext().spanId))
  const parentOf = (span: ReadableSpan) => {
    const parent = span.parentSpanContext?.spanId
    return parent !== undefined && ids.has(parent) ? parent : undefined
  }
  const walk = (parents: ReadonlySet<string | undefined>, depth: number) => {
    const byName = new Map<string, Array<ReadableSpan>>()
    for (const span of finished) {
      if (parents.has(parentOf(span))) byName.set(span.name, [...(byName.get(span.name) ?? []), span])
    }
    for (const [name, group] of byName) {
      const topic = depth === 1 ? ` (dtt.topic ${group[0]!.attributes["dtt.topic"]})` : ""
      console.log(`${"  ".repeat(depth)}${name} ×${group.length}${topic}`)
      walk(new Set(group.map((span) => span.spanContext().spanId)), depth + 1)
    }
  }
  walk(new Set([undefined]), 1)
}

await Effect.runPromise(greet.pipe(Effect.scoped, Effect.provide(Telemetry), Effect.timeout("60 seconds")))
