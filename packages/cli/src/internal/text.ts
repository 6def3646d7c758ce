/**
 * Small text helpers shared by the commands: short ids, durations typed by people, and making untrusted bytes
 * safe to print on a terminal.
 */
import { Duration, Option } from "effect"

/** The first 8 hex characters of an endpoint id: enough to tell a handful of peers apart on screen. */
export const shortId = (id: string): string => id.slice(0, 8)

/** Most characters of a received payload that are printed; longer ones are cut with an ellipsis. */
export const MAX_PRINTED_CHARS = 500

/**
 * A received payload as one printable line. Peers are untrusted: invalid UTF-8 becomes U+FFFD, and control
 * characters (ESC sequences could rewrite the terminal, newlines could fake other lines) become U+FFFD too.
 */
export const printable = (bytes: Uint8Array): string => {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes)
  // C0 controls (tab kept), DEL, C1 controls, and the Unicode line/paragraph separators.
  const clean = text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, "\ufffd")
  return clean.length > MAX_PRINTED_CHARS ? `${clean.slice(0, MAX_PRINTED_CHARS)}…` : clean
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * "60s", "1500ms", "2m", "1h", "1m30s" or a bare number of seconds. Returns `None` for anything else, including
 * zero and negative values.
 */
export const parseDuration = (input: string): Option.Option<Duration.Duration> => {
  const s = input.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(s)) {
    const seconds = Number(s)
    return seconds > 0 ? Option.some(Duration.millis(Math.round(seconds * 1000))) : Option.none()
  }
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) return Option.none()
  let total = 0
  for (const [, amount, unit] of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(amount) * UNITS[unit!]!
  return total > 0 ? Option.some(Duration.millis(Math.round(total))) : Option.none()
}

/** "host:port" with a port in 1-65535 (the host is not resolved here). */
export const isHostPort = (s: string): boolean => {
  const colon = s.lastIndexOf(":")
  if (colon <= 0) return false
  const port = Number(s.slice(colon + 1))
  return Number.isInteger(port) && port > 0 && port <= 65535 && /^\d+$/.test(s.slice(colon + 1))
}

/** Seconds with one decimal, e.g. "12.3s". */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
