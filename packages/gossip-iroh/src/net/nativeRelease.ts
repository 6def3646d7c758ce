/**
 * `@number0/iroh` frees an endpoint's UDP sockets, its tasks and its native buffers only when the JS `Endpoint`
 * object (and every `Connection`/stream object made from it) is garbage-collected: `endpoint.close()` stops the
 * endpoint but the napi wrapper keeps the Rust value, sockets included, until its finalizer runs. Measured: each
 * closed endpoint keeps 2 UDP sockets and ~1 MB of native memory until a major GC, which a small, steady JS heap
 * may not run for a long time (hence sockets and RSS growing with churn while the JS heap stayed flat).
 *
 * So after an endpoint has been closed and dropped we ask V8 for a full collection. `global.gc` exists under
 * `--expose-gc`; otherwise the flag is turned on at runtime and the function taken from a fresh context (the
 * documented V8 way; it only adds the `gc` function). A full collection of a small heap takes a few ms; closes
 * are rare, and several closes in a row share one collection.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

type Collect = () => void

let collect: Collect | null | undefined

const collector = (): Collect | null => {
  if (collect !== undefined) return collect
  const exposed = (globalThis as { gc?: unknown }).gc
  if (typeof exposed === "function") return (collect = exposed as Collect)
  try {
    v8.setFlagsFromString("--expose-gc")
    const fn = vm.runInNewContext("gc") as unknown
    collect = typeof fn === "function" ? (fn as Collect) : null
  } catch {
    collect = null
  }
  return collect
}

/** napi finalizers run after the collection, from the event loop; two turns is enough for them. */
const nextTurns = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))

/**
 * Collects now and waits for the napi finalizers, so that the sockets of every endpoint that was closed and is no
 * longer referenced are closed when this resolves. Call it after the scope that owned the endpoint has closed.
 */
export const releaseClosedEndpoints = async (): Promise<void> => {
  const gc = collector()
  if (gc === null) return
  await nextTurns()
  gc()
  await nextTurns()
}

let scheduled: NodeJS.Timeout | undefined

/**
 * Runs `releaseClosedEndpoints` a moment from now (the closing scope still references the endpoint while its
 * finalizers run). Debounced; the timer does not keep the process alive.
 */
export const releaseClosedEndpointsSoon = (delayMs = 50): void => {
  if (scheduled !== undefined) return
  scheduled = setTimeout(() => {
    scheduled = undefined
    void releaseClosedEndpoints()
  }, delayMs)
  scheduled.unref()
}
