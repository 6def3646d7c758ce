/**
 * What a stranger gets: every public package packed with `npm pack`, the tarballs installed into a fresh project
 * outside the workspace (its own node_modules, no workspace links), the README quick start typechecked there by a
 * strict `tsc` that also checks the packages' declarations (`skipLibCheck: false`), and a program built from the
 * installed packages alone run against a private Testbed.
 *
 * Also: every bare import in a package's published JavaScript is one of its declared dependencies (a hoisted
 * workspace hides a missing declaration; an install that does not hoist the same way breaks on it).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { builtinModules } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const PACKAGES = ["core", "testkit", "dht-mainline", "gossip-iroh", "promise", "cli"] as const
/** What the README tells a user to install (the facade; the transports come as its dependencies). */
const USER_INSTALLS = ["promise", "core", "dht-mainline", "gossip-iroh"] as const

const manifest = (pkg: string) =>
  JSON.parse(fs.readFileSync(path.join(root, "packages", pkg, "package.json"), "utf8")) as {
    name: string
    dependencies?: Record<string, string>
    peerDependencies?: Record<string, string>
  }
const versionOf = (name: string) =>
  (JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")) as { version: string })
    .version

const sh = (command: string, args: ReadonlyArray<string>, cwd: string, timeout = 180_000) =>
  execFileSync(command, [...args], { cwd, timeout, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

/** The TypeScript blocks of the README's "Quick start" section (Promise API, then Effect), verbatim. */
const readmeQuickStart = (): ReadonlyArray<string> => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
  const start = readme.indexOf("## Quick start")
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1))
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)
  if (blocks.length < 2) throw new Error("README's Quick start lacks its Promise and Effect ts blocks")
  return blocks
}

/** A stranger's program: a private DHT from the installed dht-mainline, two facade nodes, one message. */
const STRANGER_PROGRAM = `import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { createNode } from "distributed-topic-tracker"
import { Effect, Exit, Scope } from "effect"

const scope = Effect.runSync(Scope.make())
const bed = await Effect.runPromise(Testbed.make({ size: 8 }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode)))
const options = { bootstrap: bed.bootstrap, bindAddress: "127.0.0.1", gossip: { bindAddress: "127.0.0.1:0", relay: "disabled" as const } }
const [alice, bob] = await Promise.all([createNode(options), createNode(options)])
const [aliceTopic, bobTopic] = await Promise.all([
  alice.joinTopic("my-app/lobby", "correct horse battery staple"),
  bob.joinTopic("my-app/lobby", "correct horse battery staple")
])
const inbox = bobTopic.messages()
await aliceTopic.broadcast("hello, bob")
for await (const message of inbox) {
  console.log("received: " + new TextDecoder().decode(message.content))
  break
}
await Promise.all([alice.close(), bob.close()])
await Effect.runPromise(Scope.close(scope, Exit.void))
console.log("closed")
`

/** Bare specifiers imported by the JavaScript files under `dir` (relative and `node:` imports left out). */
const bareImports = (dir: string): Set<string> => {
  const found = new Set<string>()
  const visit = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name)
      if (entry.isDirectory()) visit(full)
      else if (entry.name.endsWith(".js")) {
        const text = fs.readFileSync(full, "utf8")
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"'./][^"']*)["']/g)) {
          const spec = m[1]!
          if (spec.startsWith("node:") || builtinModules.includes(spec)) continue
          found.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!)
        }
      }
    }
  }
  visit(dir)
  return found
}

describe("packaging", () => {
  let work: string
  let tarballs: Map<string, string>

  beforeAll(() => {
    sh("npx", ["tsc", "-b"], root)
    work = fs.mkdtempSync(path.join(os.tmpdir(), "dtt-packaging-"))
    const packs = path.join(work, "tarballs")
    fs.mkdirSync(packs)
    tarballs = new Map()
    for (const pkg of PACKAGES) {
      const out = JSON.parse(
        sh("npm", ["pack", `--workspace=packages/${pkg}`, "--pack-destination", packs, "--json"], root)
      ) as Array<{ filename: string }>
      tarballs.set(pkg, path.join(packs, out[0]!.filename))
    }
  }, 240_000)

  afterAll(() => {
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true })
  })

  it("every bare import in a package's published code is a declared dependency", () => {
    const undeclared: Array<string> = []
    for (const pkg of PACKAGES) {
      const m = manifest(pkg)
      const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})])
      for (const spec of bareImports(path.join(root, "packages", pkg, "dist", "src"))) {
        if (!declared.has(spec) && spec !== m.name) undeclared.push(`${m.name} imports ${spec}`)
      }
    }
    expect(undeclared).toEqual([])
  })

  it("the tarballs install into a fresh project, the README quick start typechecks, and a program runs", () => {
    const app = path.join(work, "app")
    fs.mkdirSync(app)
    fs.writeFileSync(
      path.join(app, "package.json"),
      JSON.stringify({ name: "stranger-app", private: true, type: "module" })
    )
    const tools = [
      `typescript@${versionOf("typescript")}`,
      `@types/node@${versionOf("@types/node")}`,
      `effect@${versionOf("effect")}`
    ]
    sh("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      ...USER_INSTALLS.map((p) => tarballs.get(p)!),
      ...tools
    ], app)
    // Installed as packages, not linked back into the workspace.
    expect(fs.lstatSync(path.join(app, "node_modules", "distributed-topic-tracker")).isSymbolicLink()).toBe(false)

    const quickStarts = readmeQuickStart().map((block, i) => {
      fs.writeFileSync(path.join(app, `quickstart${i}.ts`), block)
      return `quickstart${i}.ts`
    })
    fs.writeFileSync(path.join(app, "program.ts"), STRANGER_PROGRAM)
    const compilerOptions = {
      strict: true,
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      outDir: "out",
      skipLibCheck: false,
      types: ["node"]
    }
    fs.writeFileSync(
      path.join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions, files: [...quickStarts, "program.ts"] })
    )
    let typecheck = ""
    try {
      sh(path.join(app, "node_modules", ".bin", "tsc"), ["-p", "."], app)
    } catch (error) {
      typecheck = String((error as { stdout?: string }).stdout ?? error)
    }
    expect(typecheck).toBe("")

    // Only the program runs (the quick start talks to the public DHT); plain node on the compiled output.
    const output = sh(process.execPath, [path.join(app, "out", "program.js")], app, 60_000)
    expect(output).toContain("received: hello, bob")
    expect(output).toContain("closed")
  }, 240_000)
})
