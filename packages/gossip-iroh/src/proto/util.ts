/**
 * Small collections the protocol core needs: an insertion-ordered set with random picks (HyParView's views),
 * a min-heap of timers, and a map whose entries expire (Plumtree's caches).
 */
import type { Rng } from "./rng.js"

/** Fisher-Yates shuffle in place. */
export const shuffleInPlace = <T>(items: Array<T>, rng: Rng): Array<T> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
  return items
}

/**
 * Insertion-ordered set. `remove` swaps the last element into the hole (like indexmap's `swap_remove`), which
 * changes order; `removeRandom` shifts (like `shift_remove`). Only random choices depend on the order.
 */
export class IndexSet<T> {
  private readonly items: Array<T> = []
  private readonly index = new Map<T, number>()

  get size(): number {
    return this.items.length
  }

  has(value: T): boolean {
    return this.index.has(value)
  }

  /** Returns false if the value was already present. */
  insert(value: T): boolean {
    if (this.index.has(value)) return false
    this.index.set(value, this.items.length)
    this.items.push(value)
    return true
  }

  get(i: number): T | undefined {
    return this.items[i]
  }

  indexOf(value: T): number | undefined {
    return this.index.get(value)
  }

  values(): ReadonlyArray<T> {
    return this.items
  }

  remove(value: T): boolean {
    const i = this.index.get(value)
    if (i === undefined) return false
    this.removeIndex(i)
    return true
  }

  removeIndex(i: number): T | undefined {
    if (i < 0 || i >= this.items.length) return undefined
    const value = this.items[i]!
    const last = this.items.pop()!
    this.index.delete(value)
    if (i < this.items.length) {
      this.items[i] = last
      this.index.set(last, i)
    }
    return value
  }

  removeRandom(rng: Rng): T | undefined {
    if (this.items.length === 0) return undefined
    const i = rng.int(this.items.length)
    const [value] = this.items.splice(i, 1)
    this.index.delete(value!)
    for (let j = i; j < this.items.length; j++) this.index.set(this.items[j]!, j)
    return value
  }

  pickRandomIndex(rng: Rng): number | undefined {
    return this.items.length === 0 ? undefined : rng.int(this.items.length)
  }

  pickRandom(rng: Rng): T | undefined {
    const i = this.pickRandomIndex(rng)
    return i === undefined ? undefined : this.items[i]
  }

  pickRandomWithout(without: ReadonlyArray<T>, rng: Rng): T | undefined {
    const candidates = this.items.filter((x) => !without.includes(x))
    return candidates.length === 0 ? undefined : candidates[rng.int(candidates.length)]
  }

  shuffledWithoutAndCapped(without: ReadonlyArray<T>, len: number, rng: Rng): Array<T> {
    return shuffleInPlace(
      this.items.filter((x) => !without.includes(x)),
      rng
    ).slice(0, len)
  }

  shuffledAndCapped(len: number, rng: Rng): Array<T> {
    return shuffleInPlace([...this.items], rng).slice(0, len)
  }
}

/** Binary min-heap on (time, insertion sequence): equal times pop in insertion order. */
export class TimerMap<T> {
  private heap: Array<{ time: number; seq: number; item: T }> = []
  private seq = 0

  get size(): number {
    return this.heap.length
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!
    const y = this.heap[b]!
    return x.time < y.time || (x.time === y.time && x.seq < y.seq)
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a]!
    this.heap[a] = this.heap[b]!
    this.heap[b] = t
  }

  insert(time: number, item: T): void {
    this.heap.push({ time, seq: this.seq++, item })
    let i = this.heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  /** The earliest deadline, if any. */
  first(): number | undefined {
    return this.heap[0]?.time
  }

  /** Removes and returns the earliest entry if its time is <= `limit`. */
  popBefore(limit: number): { time: number; item: T } | undefined {
    const top = this.heap[0]
    if (top === undefined || top.time > limit) return undefined
    const last = this.heap.pop()!
    if (this.heap.length > 0) {
      this.heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.heap.length && this.less(l, m)) m = l
        if (r < this.heap.length && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return { time: top.time, item: top.item }
  }

  /** Removes and returns every entry with time <= `limit` (inclusive), earliest first. */
  drainUntil(limit: number): Array<{ time: number; item: T }> {
    const out: Array<{ time: number; item: T }> = []
    for (;;) {
      const next = this.popBefore(limit)
      if (next === undefined) return out
      out.push(next)
    }
  }
}

/** A map whose entries expire; re-inserting a key replaces its expiry. */
export class TimeBoundCache<K, V> {
  private readonly map = new Map<K, { expires: number; value: V }>()
  private readonly expiry = new TimerMap<K>()

  get size(): number {
    return this.map.size
  }

  insert(key: K, value: V, expires: number): void {
    this.map.set(key, { expires, value })
    this.expiry.insert(expires, key)
  }

  has(key: K): boolean {
    return this.map.has(key)
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value
  }

  expires(key: K): number | undefined {
    return this.map.get(key)?.expires
  }

  /** Removes every entry whose expiry is <= `now`; returns how many were removed. */
  expireUntil(now: number): number {
    let count = 0
    for (const { time, item } of this.expiry.drainUntil(now)) {
      const entry = this.map.get(item)
      // A different expiry means the key was re-inserted later; that newer entry stays.
      if (entry !== undefined && entry.expires === time) {
        this.map.delete(item)
        count++
      }
    }
    return count
  }
}
