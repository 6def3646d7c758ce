/**
 * The processes a soak run starts beside its own (scripts/soak.ts): the storing nodes (a child `dtt testbed`, or
 * inline) and, with CHURN=process, the churned members, each a child `dtt chat --json` whose JSON lines say when
 * it joined and what it received.
 */
import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { Effect, Exit, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { sleep } from "./measure.js"

const DTT_BIN = fileURLToPath(new URL("../packages/cli/dist/src/bin.js", import.meta.url))

/** VmRSS of a live process in MB (one decimal), `undefined` once it is gone. */
export const rssOf = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    const status = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return status === null ? undefined : Math.round(Number(status[1]) / 100) / 10
  } catch {
    return undefined
  }
}

/** Each JSON line of a child's stdout; anything else it prints is skipped (it must not throw in the handler). */
const onJsonLines = (child: ChildProcess, handle: (event: Record<string, unknown>) => void) =>
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let event: unknown
    try {
      event = JSON.parse(line)
    } catch {
      return
    }
    if (typeof event === "object" && event !== null) handle(event as Record<string, unknown>)
  })

/** Ends a child: `stop` first (a signal or closing its stdin), SIGKILL if it is still there after 5 s. */
const ending = (child: ChildProcess) => {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })
  return {
    exited,
    end: async (stop: () => void) => {
      stop()
      await Promise.race([exited, sleep(5_000).then(() => child.kill("SIGKILL"))])
    }
  }
}

export interface StoringNodes {
  readonly bootstrap: ReadonlyArray<string>
  /** RSS of the child process in MB, `undefined` when the nodes run in this process. */
  readonly childRssMB: () => number | undefined
  readonly close: () => Promise<void>
}

/** `dtt testbed` in a child process: its first JSON line gives the bootstrap address. */
export const childTestbed = async (size: number): Promise<StoringNodes> => {
  const child = spawn(process.execPath, [DTT_BIN, "testbed", "--nodes", String(size), "--port", "0", "--json"], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  const { end, exited } = ending(child)
  let startTimer: ReturnType<typeof setTimeout> | undefined
  const listening = await Promise.race([
    new Promise<{ bootstrap: Array<string> }>((resolve) =>
      onJsonLines(child, (event) => {
        if (event.type === "listening" && Array.isArray(event.bootstrap)) {
          resolve({ bootstrap: event.bootstrap as Array<string> })
        }
      })
    ),
    exited.then(() => {
      throw new Error("dtt testbed exited before listening")
    }),
    new Promise<never>((_, reject) => {
      startTimer = setTimeout(() => {
        child.kill("SIGKILL")
        reject(new Error("dtt testbed did not start within 30 s"))
      }, 30_000)
    })
  ]).finally(() => clearTimeout(startTimer))
  return {
    bootstrap: listening.bootstrap,
    childRssMB: () => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined
      return rssOf(child.pid)
    },
    close: () => end(() => child.kill("SIGTERM"))
  }
}

export const inlineTestbed = async (size: number): Promise<StoringNodes> => {
  const scope = Effect.runSync(Scope.make())
  const bed = await Effect.runPromise(
    Testbed.make({ size }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode))
  )
  return {
    bootstrap: bed.bootstrap,
    childRssMB: () => undefined,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** A churned member in its own process (`dtt chat --json` on the soak's topic). */
export interface ChildMember {
  readonly pid: number | undefined
  /** Resolves with the child's own join time (ms from its start) on its `joined` line, `undefined` if it exits. */
  readonly joined: Promise<number | undefined>
  /** Leaves as a user would: stdin closed (Ctrl-D), then the child drains, closes and exits. */
  readonly leave: () => Promise<void>
}

export const childMember = (
  topic: string,
  secret: string,
  bootstrap: ReadonlyArray<string>,
  onMessage: (text: string) => void,
  onLagged: (missed: number) => void
): ChildMember => {
  const args = [DTT_BIN, "chat", "--topic", topic, "--json", ...bootstrap.flatMap((b) => ["--bootstrap", b])]
  const child = spawn(process.execPath, args, {
    stdio: ["pipe", "pipe", "ignore"],
    env: { ...process.env, DTT_SECRET: secret }
  })
  const { end, exited } = ending(child)
  const joined = new Promise<number | undefined>((resolve) => {
    void exited.then(() => resolve(undefined))
    onJsonLines(child, (event) => {
      if (event.type === "joined" && typeof event.afterMs === "number") resolve(event.afterMs)
      else if (event.type === "message" && typeof event.text === "string") onMessage(event.text)
      else if (event.type === "lagged") onLagged(typeof event.missed === "number" ? event.missed : 1)
    })
  })
  return { pid: child.pid, joined, leave: () => end(() => child.stdin!.end()) }
}
