/**
 * The storing nodes a recent lookup found for a target, with the write tokens they handed out, so that a `put`
 * soon after a `get` of the same target (a publish reads the slot first: the cooperative cap needs what is
 * there) does not walk the DHT a second time. The Rust mainline client caches its iterative queries for its puts
 * in the same way.
 *
 * A token stays valid for one to two rotation periods of the node that issued it (five minutes is usual, BEP5
 * accepts ten), so an entry is only used for `ttlMs` (a minute by default); a put that none of the remembered
 * nodes accepts forgets the entry and looks up afresh. Bounded in count (the oldest go first) and in time: every
 * `remember` drops the entries that went stale, so a long-lived node keeps only the last minute's targets. Without
 * that, the entries of every address lookup and slot read stayed until 256 had piled up, about twenty storing
 * nodes with their tokens each: in a heap diff of the soak (150 s to 560 s) they held 2124 of the 2348 byte
 * arrays the process gained.
 */
import { Bytes } from "@dtt/core"
import type { Responder } from "./lookup.js"

export interface WriteTargets {
  /** Keeps the responders that gave a token (nothing when none did) and returns them. */
  readonly remember: (
    target: Uint8Array,
    responders: ReadonlyArray<Responder>,
    now: number
  ) => ReadonlyArray<Responder>
  /** The remembered writable responders, if fresh. */
  readonly recall: (target: Uint8Array, now: number) => ReadonlyArray<Responder> | undefined
  readonly forget: (target: Uint8Array) => void
  /** How many targets are remembered now (stale ones included until the next `remember`). */
  readonly size: () => number
}

interface Entry {
  readonly writable: ReadonlyArray<Responder>
  readonly at: number
}

export const make = (ttlMs = 60_000, maxEntries = 256): WriteTargets => {
  const entries = new Map<string, Entry>()
  return {
    remember: (target, responders, now) => {
      const writable = responders.filter((r) => r.token !== undefined)
      const key = Bytes.toHex(target)
      entries.delete(key)
      // Map order is the order of `remember` calls, so the stale entries are at the front.
      for (const [oldKey, entry] of entries) {
        if (now - entry.at < ttlMs) break
        entries.delete(oldKey)
      }
      if (writable.length === 0) return writable
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!)
      entries.set(key, { writable, at: now })
      return writable
    },
    recall: (target, now) => {
      const entry = entries.get(Bytes.toHex(target))
      return entry !== undefined && now - entry.at < ttlMs ? entry.writable : undefined
    },
    forget: (target) => void entries.delete(Bytes.toHex(target)),
    size: () => entries.size
  }
}
