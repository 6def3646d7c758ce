/**
 * The unix minute every DHT slot is keyed by, read from Effect's `Clock` so `TestClock` drives minute rollover
 * in tests. Rust: `unix_minute(offset)` = floor(UTC seconds / 60) + offset.
 */
import { Clock, Effect } from "effect"

export const MILLIS_PER_MINUTE = 60_000

/** The minute containing `millis` (ms since the unix epoch). */
export const minuteOf = (millis: number): bigint => BigInt(Math.floor(millis / MILLIS_PER_MINUTE))

/** The current unix minute plus `offset` (Rust `unix_minute(offset)`). */
export const currentMinute = (offset = 0): Effect.Effect<bigint> =>
  Effect.map(Clock.currentTimeMillis, (ms) => minuteOf(ms) + BigInt(offset))
