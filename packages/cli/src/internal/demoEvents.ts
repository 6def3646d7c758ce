/**
 * What `dtt demo` reports, as data. The human output and `--json` (one object a line) are two renderings of the
 * same events, so they cannot tell different stories.
 */
import { Duration } from "effect"
import type { Summary } from "../Demo.js"
import { seconds, shortId } from "./text.js"

export type DemoEvent =
  | {
    readonly type: "start"
    readonly nodes: number
    readonly topic: string
    readonly dhtNodes: number
    readonly durationMs: number
  }
  | { readonly type: "dhtUp"; readonly bootstrap: string }
  | { readonly type: "nodeStarted"; readonly node: string; readonly endpointId: string }
  | {
    readonly type: "joined"
    readonly node: string
    readonly afterMs: number
    readonly neighbours: ReadonlyArray<string>
  }
  | { readonly type: "neighbourUp" | "neighbourDown"; readonly node: string; readonly peer: string }
  | { readonly type: "lagged"; readonly node: string; readonly missed: number | null }
  | { readonly type: "broadcastFailed"; readonly node: string; readonly error: string }
  | {
    readonly type: "status"
    readonly joined: number
    readonly nodes: number
    /** Neighbour count per node name. */
    readonly neighbours: Readonly<Record<string, number>>
    readonly components: number
    readonly sent: number
    readonly received: number
    readonly dhtGets: number
    readonly dhtPuts: number
  }
  | ({ readonly type: "summary" } & Summary)

/** Above this many nodes the status line shows min/mean/max neighbours instead of one figure per node. */
export const LIST_NODES_UP_TO = 12

const pad = (s: string | number, n: number) => String(s).padStart(n)

const statusLine = (e: Extract<DemoEvent, { type: "status" }>) => {
  const degrees = Object.values(e.neighbours)
  const perNode = degrees.length <= LIST_NODES_UP_TO
    ? Object.entries(e.neighbours).map(([name, n]) => `${name}:${n}`).join(" ")
    : `min/mean/max ${Math.min(...degrees)}/${(degrees.reduce((a, b) => a + b, 0) / degrees.length).toFixed(1)}/${
      Math.max(...degrees)
    }`
  return (
    `status  joined ${e.joined}/${e.nodes}  neighbours [${perNode}]  components ${e.components}  ` +
    `messages sent ${e.sent} received ${e.received}  DHT gets ${e.dhtGets} puts ${e.dhtPuts}`
  )
}

const summaryLines = (s: Summary): Array<string> => {
  const lines = [
    ``,
    `summary${s.interrupted ? " (interrupted)" : ""} after ${seconds(s.elapsedMs)}`,
    `  nodes joined     ${s.joined}/${s.nodes.length}`,
    `  components       ${s.components.length} (sizes ${s.components.join(", ")})`,
    `  messages         ${s.messagesSent} sent, ${s.deliveries}/${s.expectedDeliveries} deliveries` +
    (s.expectedDeliveries > 0 ? ` (${((100 * s.deliveries) / s.expectedDeliveries).toFixed(1)}%)` : ""),
    `  per node         name      id        joined after  neighbours  sent  received  DHT gets/puts (records + addresses)`
  ]
  for (const n of s.nodes) {
    lines.push(
      `                   ${n.name.padEnd(8)}  ${shortId(n.endpointId)}  ${
        pad(n.joinedAfterMs === undefined ? "never" : seconds(n.joinedAfterMs), 12)
      }  ` +
        `${pad(n.neighbors, 10)}  ${pad(n.sent, 4)}  ${pad(n.received, 8)}  ` +
        `${n.dht.recordGets}+${n.dht.addressGets} / ${n.dht.recordPuts}+${n.dht.addressPuts}` +
        (n.dht.failed > 0 ? ` (${n.dht.failed} failed)` : "")
    )
  }
  return lines
}

/**
 * The human lines of an event; `at` is the `t+  1.2s` prefix of timeline lines (the opening line and the summary
 * have none).
 */
export const render = (event: DemoEvent, at: string): ReadonlyArray<string> => {
  switch (event.type) {
    case "start":
      return [
        `dtt demo: ${event.nodes} nodes on topic "${event.topic}", private DHT of ${event.dhtNodes} ` +
        `nodes on 127.0.0.1, for ${Duration.format(Duration.millis(event.durationMs))}`
      ]
    case "dhtUp":
      return [`${at}  private DHT up, bootstrap ${event.bootstrap}`]
    case "nodeStarted":
      return [`${at}  ${event.node} started (${shortId(event.endpointId)})`]
    case "joined":
      return [`${at}  ${event.node} joined after ${seconds(event.afterMs)} (neighbours ${event.neighbours.join(", ")})`]
    case "neighbourUp":
      return [`${at}  ${event.node} + neighbour ${event.peer}`]
    case "neighbourDown":
      return [`${at}  ${event.node} - neighbour ${event.peer}`]
    case "lagged":
      return [`${at}  ${event.node} lagged (missed ${event.missed ?? "some"} events)`]
    case "broadcastFailed":
      return [`${at}  ${event.node} broadcast failed: ${event.error}`]
    case "status":
      return [`${at}  ${statusLine(event)}`]
    case "summary":
      return summaryLines(event)
  }
}

/** One JSON line: the event with `t`, milliseconds since the demo started (absent values as null). */
export const toJsonLine = (event: DemoEvent, t: number): string =>
  JSON.stringify({ t, ...event }, (_key, value: unknown) => (value === undefined ? null : value))
