/**
 * What this node knows about how to reach other endpoints. The napi binding cannot feed iroh's own address lookup
 * (there is no `MemoryLookup` in `@number0/iroh`), so the driver keeps this book and always dials with a full
 * `EndpointAddr` built from it (spec iroh-gossip.md §5).
 *
 * Rules follow iroh-gossip's `GossipAddressLookup`: an update merges direct addresses into what is known and
 * refreshes the entry; an entry not refreshed for `retention` (5 min) is dropped. Because PeerData arrives from
 * the network, the book is bounded in entries and in addresses per entry.
 */
import type { EndpointId as Id } from "@dtt/core"
import type { DialAddr } from "./net/endpoint.js"

type EndpointId = Id.EndpointId

export interface AddressBookOptions {
  /** Milliseconds an entry lives after its last update. */
  readonly retention: number
  readonly maxEntries: number
  readonly maxAddressesPerEntry: number
}

export const defaultAddressBookOptions: AddressBookOptions = {
  retention: 5 * 60_000,
  maxEntries: 4096,
  maxAddressesPerEntry: 16
}

interface Entry {
  relayUrl: string | undefined
  /** Insertion-ordered; the newest addresses are kept when the cap is hit. */
  direct: Set<string>
  updatedAt: number
}

export class AddressBook {
  private readonly entries = new Map<EndpointId, Entry>()

  constructor(private readonly options: AddressBookOptions = defaultAddressBookOptions) {}

  get size(): number {
    return this.entries.size
  }

  /** Merges what we learned about `addr.id`. An update with no address at all only refreshes a known entry. */
  add(addr: DialAddr, now: number): void {
    const known = this.entries.get(addr.id)
    if (known === undefined && addr.relayUrl === undefined && addr.directAddresses.length === 0) return
    if (known === undefined && this.entries.size >= this.options.maxEntries) this.evictOldest()
    const entry = known ?? { relayUrl: undefined, direct: new Set<string>(), updatedAt: now }
    if (addr.relayUrl !== undefined) entry.relayUrl = addr.relayUrl
    for (const a of addr.directAddresses) {
      entry.direct.delete(a)
      entry.direct.add(a)
    }
    while (entry.direct.size > this.options.maxAddressesPerEntry) {
      entry.direct.delete(entry.direct.values().next().value!)
    }
    entry.updatedAt = now
    // Re-insert so map order is "least recently updated first" (cheap eviction).
    this.entries.delete(addr.id)
    this.entries.set(addr.id, entry)
  }

  /** The dial address for `id`, if any known entry is still fresh. */
  get(id: EndpointId, now: number): DialAddr | undefined {
    const entry = this.entries.get(id)
    if (entry === undefined) return undefined
    if (now - entry.updatedAt > this.options.retention) {
      this.entries.delete(id)
      return undefined
    }
    return { id, relayUrl: entry.relayUrl, directAddresses: [...entry.direct] }
  }

  remove(id: EndpointId): void {
    this.entries.delete(id)
  }

  /** Drops every expired entry (the driver calls this periodically, as Rust's 30 s eviction tick). */
  evictExpired(now: number): void {
    for (const [id, entry] of this.entries) {
      if (now - entry.updatedAt > this.options.retention) this.entries.delete(id)
      else break // map order is update order: the rest is newer
    }
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next()
    if (!oldest.done) this.entries.delete(oldest.value)
  }
}
