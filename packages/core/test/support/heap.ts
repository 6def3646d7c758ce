/** The heap measure of the memory-bound tests. */
import * as v8 from "node:v8"
import * as vm from "node:vm"

let gc: (() => void) | undefined

/** Bytes of JS heap in use right after a full garbage collection (exposed on first use). */
export const heapUsedAfterGc = (): number => {
  if (gc === undefined) {
    v8.setFlagsFromString("--expose-gc")
    gc = vm.runInNewContext("gc") as () => void
  }
  gc()
  return process.memoryUsage().heapUsed
}
