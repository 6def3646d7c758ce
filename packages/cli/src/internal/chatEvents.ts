/**
 * What `dtt chat` reports, as data. The human lines and `--json` (one object a line) are two renderings of the
 * same events, as for `dtt demo`. Nothing here carries the secret.
 */
import type { Metrics } from "@dtt/core"
import type { DhtCounters } from "../PeerNode.js"
import { reachableAgainMessage, unreachableMessage } from "./dhtReachability.js"
import { shortId } from "./text.js"

/** The DHT counters as printed: requests by kind and how they ended. */
export type DhtFigures = Readonly<DhtCounters>

/** Topic records the slot reads returned, from core's `dtt_records_*` metrics (one node per `dtt` process). */
export interface RecordFigures {
  readonly seen: number
  readonly opened: number
  readonly rejected: number
}

/** The record figures out of a metrics snapshot. */
export const recordFigures = (samples: ReadonlyArray<Metrics.Sample>): RecordFigures => {
  const total = (name: string) =>
    samples.reduce((sum, s) => s.name === name && s.kind === "counter" ? sum + s.value : sum, 0)
  return {
    seen: total("dtt_records_seen"),
    opened: total("dtt_records_opened"),
    rejected: total("dtt_records_rejected")
  }
}

export type ChatEvent =
  | {
    readonly type: "started"
    readonly endpointId: string
    readonly topic: string
    readonly bootstrap: ReadonlyArray<string>
  }
  | { readonly type: "joined"; readonly afterMs: number; readonly neighbors: ReadonlyArray<string> }
  | { readonly type: "neighbor-up" | "neighbor-down"; readonly peer: string }
  /** `text` is the decoded payload; JSON escapes control characters, the human line replaces them. */
  | { readonly type: "message"; readonly from: string; readonly text: string; readonly printable: string }
  | { readonly type: "lagged"; readonly missed: number | null }
  | { readonly type: "dht-unreachable"; readonly quietSeconds: number; readonly bootstrap: ReadonlyArray<string> }
  | { readonly type: "dht-reachable" }
  | { readonly type: "queued" }
  | { readonly type: "line-too-long"; readonly bytes: number; readonly max: number }
  | { readonly type: "send-failed"; readonly error: string }
  /** While not joined: how long we have looked and what the DHT did meanwhile. */
  | { readonly type: "progress"; readonly elapsedMs: number; readonly dht: DhtFigures; readonly records: RecordFigures }
  | {
    readonly type: "status"
    readonly elapsedMs: number
    readonly joined: boolean
    readonly neighbors: number
    readonly sent: number
    readonly received: number
    readonly dht: DhtFigures
    readonly records: RecordFigures
  }
  | { readonly type: "leaving" }
  | {
    readonly type: "summary"
    readonly elapsedMs: number
    /** Milliseconds from start to joined, null if it never joined. */
    readonly joinedAfterMs: number | null
    readonly neighbors: number
    readonly sent: number
    readonly received: number
    readonly dht: DhtFigures
    readonly records: RecordFigures
  }

const requests = (d: DhtFigures) => d.answered + d.failed

/** The human lines of an event; events only scripts care about (status, summary) render as nothing. */
export const render = (event: ChatEvent): ReadonlyArray<string> => {
  switch (event.type) {
    case "started": {
      const where = event.bootstrap.length > 0 ? `private DHT ${event.bootstrap.join(", ")}` : "the public mainline DHT"
      return [`joining topic "${event.topic}" as ${shortId(event.endpointId)} via ${where} ...`]
    }
    case "joined":
      return [`* joined (neighbours ${event.neighbors.map(shortId).join(", ")})`]
    case "neighbor-up":
      return [`* neighbour up ${shortId(event.peer)}`]
    case "neighbor-down":
      return [`* neighbour down ${shortId(event.peer)}`]
    case "message":
      return [`[${shortId(event.from)}] ${event.printable}`]
    case "lagged":
      return [`* missed ${event.missed ?? "some"} events`]
    case "dht-unreachable":
      return [unreachableMessage(event.bootstrap, event.quietSeconds)]
    case "dht-reachable":
      return [reachableAgainMessage]
    case "queued":
      return ["* not joined yet; the line goes out once a neighbour is up"]
    case "line-too-long":
      return [`* line too long (${event.bytes} bytes, at most ${event.max})`]
    case "send-failed":
      return [`* could not send: ${event.error}`]
    case "progress":
      return [
        `* looking for peers… ${Math.round(event.elapsedMs / 1000)} s, DHT answered ${event.dht.answered} of ` +
        `${requests(event.dht)} requests, ${event.records.seen} records seen (${event.records.opened} opened)`
      ]
    case "leaving":
      return ["* leaving"]
    case "status":
    case "summary":
      return []
  }
}

/** One JSON line; the human-only `printable` copy of a message is left out. */
export const toJsonLine = (event: ChatEvent): string => {
  if (event.type === "message") return JSON.stringify({ type: event.type, from: event.from, text: event.text })
  return JSON.stringify(event)
}
