/**
 * The one place that loads `@number0/iroh`. The package is CommonJS and its `main` points at a missing file
 * (Node falls back to `index.js`; vitest aliases it; tsc maps the types through `paths` in our tsconfig), so every
 * other module imports the classes from here.
 *
 * napi quirks the driver relies on (spec iroh-gossip.md §1.6): byte arguments must be plain `number[]`, byte results
 * are `number[]`, and a napi object whose JS handle is collected gets closed on the Rust side.
 */
import * as IrohModule from "@number0/iroh"
// The package's `types` field points at a missing file; take the declarations from where they really are (a
// tsconfig `paths` entry would also redirect tsx's runtime resolution to the .d.ts).
import type * as Iroh from "@number0/iroh/index.js"

// CommonJS interop differs between Node (named exports detected), tsx and vitest (sometimes only `default`).
const iroh: typeof Iroh = (IrohModule as unknown as { default?: typeof Iroh }).default?.Endpoint !== undefined
  ? (IrohModule as unknown as { default: typeof Iroh }).default
  : IrohModule

export const {
  Endpoint,
  EndpointAddr,
  EndpointId,
  EndpointTicket,
  RelayMode,
  presetMinimal,
  presetN0
} = iroh

export type Endpoint = Iroh.Endpoint
export type EndpointAddr = Iroh.EndpointAddr
export type Connection = Iroh.Connection
export type SendStream = Iroh.SendStream
export type RecvStream = Iroh.RecvStream

/**
 * napi wants `number[]` for every byte argument (a Buffer or Uint8Array throws "Failed to get Array length").
 * A plain loop: `Array.from(typedArray)` goes through the iterator protocol and is ~10x slower, which showed up as
 * a large share of the CPU time per frame.
 */
export const toNapiBytes = (bytes: Uint8Array): Array<number> => {
  const out = new Array<number>(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]!
  return out
}

export const fromNapiBytes = (bytes: ReadonlyArray<number>): Uint8Array => new Uint8Array(bytes)

/** napi errors arrive as `Error`s whose message is the Rust error (often followed by a backtrace). */
export const napiErrorMessage = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error)
  const cut = text.indexOf("\n\nStack backtrace")
  return (cut >= 0 ? text.slice(0, cut) : text).trim()
}
