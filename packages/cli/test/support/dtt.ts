/**
 * Runs `dtt` as a child process (node + tsx on the TypeScript sources, no extra npx/tsx wrapper process, so
 * signals reach dtt itself) with piped stdio, and waits for lines on its output.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll } from "vitest"

const BIN = fileURLToPath(new URL("../../src/bin.ts", import.meta.url))
const CWD = fileURLToPath(new URL("../..", import.meta.url))

/** @effect/cli colours its help whatever the terminal; tests read plain text. */

const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "")

export interface Dtt {
  readonly child: ChildProcessWithoutNullStreams
  /** Everything printed so far on stdout / stderr, colours removed. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the first stdout line matching, failing after `ms` with what was printed so far. */
  readonly waitFor: (pattern: RegExp, ms: number) => Promise<RegExpMatchArray>
  /** Resolves with the exit code (signal deaths give -1), failing after `ms`. */
  readonly exited: (ms: number) => Promise<number>
  readonly send: (line: string) => void
}

export const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Dtt => {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", BIN, ...args], {
    cwd: CWD,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let out = ""
  let err = ""
  const listeners = new Set<() => void>()
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8")
    for (const l of listeners) l()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8")
  })
  const exit = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)))
  const describe = () => `\n--- stdout ---\n${stripAnsi(out)}\n--- stderr ---\n${stripAnsi(err)}`

  const waitFor = (pattern: RegExp, ms: number) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        for (const line of stripAnsi(out).split("\n")) {
          const m = line.match(pattern)
          if (m !== null) {
            cleanup()
            resolve(m)
            return
          }
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no line matching ${pattern} within ${ms} ms${describe()}`))
      }, ms)
      const cleanup = () => {
        clearTimeout(timer)
        listeners.delete(check)
      }
      listeners.add(check)
      check()
    })

  const exited = (ms: number) =>
    Promise.race([
      exit,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`dtt ${args.join(" ")} did not exit within ${ms} ms${describe()}`)), ms)
          .unref()
      )
    ])

  return {
    child,
    stdout: () => stripAnsi(out),
    stderr: () => stripAnsi(err),
    waitFor,
    exited,
    send: (line) => void child.stdin.write(`${line}\n`)
  }
}

/** Kill whatever is still running (a failed test must not leave processes behind). */
export const killAll = (procs: ReadonlyArray<Dtt>) => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL")
}

/**
 * `start` for one test file: every process started through `run` is killed after the file's tests. `testbed(n)` is
 * a `dtt testbed` of `n` nodes on an OS-chosen port, with the bootstrap address it printed.
 */
export const processes = () => {
  const started: Array<Dtt> = []
  afterAll(() => killAll(started))
  const run = (args: ReadonlyArray<string>, env?: Record<string, string>): Dtt => {
    const p = start(args, env)
    started.push(p)
    return p
  }
  const testbed = async (nodes: number) => {
    const p = run(["testbed", "--nodes", String(nodes), "--port", "0"])
    const [, bootstrap] = await p.waitFor(/^bootstrap (127\.0\.0\.1:\d+)$/, 15_000)
    return { testbed: p, bootstrap: bootstrap! }
  }
  return { run, testbed }
}
