// docker/ cannot run here (no engine); this checks what can be checked without one, so the compose file cannot
// drift from the e2e scripts: it parses, every file its commands name exists, the nodes run the e2e node with
// their own address and the testbed's address as bootstrap, and they expect exactly every other node's line.
import { existsSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

const root = resolve(import.meta.dirname, "../../..")
const compose = parse(readFileSync(resolve(root, "docker/compose.yaml"), "utf8"), { merge: true })
/** The parts of a compose service this test reads (the file is checked against them, not trusted). */
interface Service {
  readonly build: { readonly context: string; readonly dockerfile: string }
  readonly command: Array<string>
  readonly environment: Record<string, string>
  readonly networks: { readonly dtt: { readonly ipv4_address: string } }
  readonly [key: string]: unknown
}
const services = compose.services as Record<string, Service>
const nodes = Object.entries(services).filter(([name]) => name !== "testbed")
const addressOf = (svc: Service) => svc.networks.dtt.ipv4_address

describe("docker/compose.yaml", () => {
  it("has a testbed and at least 3 nodes, each built from docker/Dockerfile", () => {
    expect(services.testbed).toBeDefined()
    expect(nodes.length).toBeGreaterThanOrEqual(3)
    for (const svc of Object.values(services)) {
      expect(existsSync(resolve(root, "docker", svc.build.context, svc.build.dockerfile))).toBe(true)
    }
  })

  it("every file a command names exists, and the nodes run the e2e node script", () => {
    for (const svc of Object.values(services)) {
      for (const arg of svc.command as Array<string>) {
        if (/\.(ts|mjs|js)$/.test(arg)) expect(existsSync(resolve(root, arg)), arg).toBe(true)
      }
    }
    for (const [, svc] of nodes) {
      expect(svc.command.slice(0, 4)).toEqual(["npx", "tsx", "--conditions=source", "e2e/node.ts"])
    }
    const node = readFileSync(resolve(root, "e2e/node.ts"), "utf8")
    expect(node).toContain("process.env.E2E_SAY")
    expect(node).toContain("process.env.E2E_EXPECT")
  })

  it("the testbed is the dtt testbed on its own address; nodes bind their own and bootstrap from it", () => {
    const tb = services.testbed.command as Array<string>
    expect(tb.slice(3, 5)).toEqual(["packages/cli/src/bin.ts", "testbed"])
    const bootstrap = `${tb[tb.indexOf("--host") + 1]}:${tb[tb.indexOf("--port") + 1]}`
    expect(tb[tb.indexOf("--host") + 1]).toBe(addressOf(services.testbed))
    const addresses = new Set(Object.values(services).map(addressOf))
    expect(addresses.size).toBe(Object.keys(services).length)
    for (const [, svc] of nodes) {
      expect(svc.command[4]).toBe(addressOf(svc))
      expect(svc.command[5]).toBe(bootstrap)
    }
  })

  it("each node says a distinct line and expects every other node's (the e2e assertion)", () => {
    const says = new Set(nodes.map(([, svc]) => svc.environment.E2E_SAY))
    expect(says.size).toBe(nodes.length)
    for (const [, svc] of nodes) expect(Number(svc.environment.E2E_EXPECT)).toBe(nodes.length - 1)
  })
})
