/** Core `DiscoveryEvent`s as plain objects for Promise callers: kebab-case `type`, milliseconds, numbers. */
import type { DiscoveryEvent as Core } from "@dtt/core"
import { Duration } from "effect"
import type { DiscoveryEvent } from "../Topic.js"

const ms = (d: Duration.Duration) => Duration.toMillis(d)

export const toPlain = (event: Core.DiscoveryEvent): DiscoveryEvent => {
  switch (event._tag) {
    case "DhtBootstrapped":
      return { type: "dht-bootstrapped", afterMs: ms(event.after) }
    case "DhtUnreachable":
      return { type: "dht-unreachable", afterMs: ms(event.after), failedGets: event.failedGets, reason: event.reason }
    case "RecordsFound":
      return {
        type: "records-found",
        minute: Number(event.minute),
        slot: event.slot,
        found: event.found,
        opened: event.opened,
        rejected: { ...event.rejected },
        records: event.records
      }
    case "Dialing":
      return { type: "dialing", peers: [...event.peers] }
    case "DialFailed":
      return { type: "dial-failed", peer: event.peer, reason: event.reason }
    case "Joined":
      return { type: "joined", afterMs: ms(event.after), neighbor: event.neighbor }
    case "AloneAgain":
      return { type: "alone-again", peer: event.peer }
    case "Rediscovering":
      return { type: "rediscovering", aloneForMs: ms(event.aloneFor) }
    case "Published":
      return { type: "published", minute: Number(event.minute), record: event.record, storedAt: event.storedAt }
    case "PublishSkipped":
      return {
        type: "publish-skipped",
        minute: Number(event.minute),
        record: event.record,
        reason: event.reason,
        ...(event.seen === undefined ? {} : { seen: event.seen }),
        ...(event.error === undefined ? {} : { error: event.error })
      }
    case "Merged":
      return { type: "merged", kind: event.kind, peers: [...event.peers] }
    case "Lagged":
      return { type: "lagged", missed: event.missed }
  }
}
