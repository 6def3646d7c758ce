/**
 * Where the soak's last MB come from: bare `@number0/iroh`, none of our code. One long-lived endpoint (this
 * process, measured) accepts CYCLES connections from a child process that, each cycle, binds an endpoint,
 * connects, sends 5 bytes on a stream, closes and drops it. MODE=fresh gives the child a new secret key every
 * cycle (a new remote endpoint id each time, as churned peers are); MODE=same reuses one key. Samples this
 * process's RSS after a full GC every 5 s, also for IDLE_S seconds after the last cycle (default 90: iroh stops a
 * remote's state actor after 60 s without connections, so what is still held then outlives the remote's last
 * connection); writes bench/results/iroh-remote-churn-<mode>.json.
 *
 *   npm run iroh:churn                 (MODE=fresh CYCLES=4000; about 3 minutes)
 */
import { fork } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Iroh from "../packages/gossip-iroh/dist/src/net/iroh.js"
import { sleep } from "./measure.js"

const MODE = process.env.MODE ?? "fresh"
const CYCLES = Number(process.env.CYCLES ?? 4000)
const IDLE_S = Number(process.env.IDLE_S ?? 90)
const DEADLINE_MS = 9 * 60_000
const ALPN = Iroh.toNapiBytes(new TextEncoder().encode("dtt-churn/0"))

const bind = (key: Uint8Array) => {
  const builder = Iroh.Endpoint.builder()
  Iroh.presetMinimal(builder)
  builder.relayMode(Iroh.RelayMode.disabled())
  builder.secretKey(Iroh.toNapiBytes(key))
  builder.alpns([ALPN])
  builder.bindAddr("127.0.0.1:0")
  return builder.bind()
}

const gc = (globalThis as { gc?: () => void }).gc
const rssMB = () => {
  gc?.()
  return Math.round(process.memoryUsage().rss / 1e5) / 10
}

const serve = async () => {
  const endpoint = await bind(randomBytes(32))
  let accepted = 0
  const acceptLoop = async () => {
    for (;;) {
      const incoming = await endpoint.acceptNext()
      if (incoming === null) return
      void (async () => {
        const conn = await (await incoming.accept()).connect()
        accepted++
        await (await conn.acceptUni()).readToEnd(1000)
        await conn.closed()
      })().catch(() => undefined)
    }
  }
  void acceptLoop().catch(() => undefined)
  const addr = endpoint.addr()
  const child = fork(fileURLToPath(import.meta.url), ["client"], {
    env: { ...process.env, TARGET: JSON.stringify({ id: addr.id().toString(), addrs: addr.directAddresses() }) }
  })
  const started = Date.now()
  const samples: Array<{ seconds: number; accepted: number; rssMB: number }> = []
  const sample = () => samples.push({ seconds: Math.round((Date.now() - started) / 1000), accepted, rssMB: rssMB() })
  sample()
  const timer = setInterval(() => {
    sample()
    console.log(JSON.stringify(samples.at(-1)))
  }, 5000)
  await new Promise((resolve) => child.on("exit", resolve))
  const cycling = samples.length
  await sleep(5000)
  const atLastCycle = rssMB()
  await sleep(IDLE_S * 1000)
  clearInterval(timer)
  sample()
  // iroh's own counters: with every connection it opened closed, no connection keeps a remote's actor alive.
  const stats = endpoint.stats()
  const irohConnections = {
    opened: stats["socket:num_conns_opened"]?.value ?? null,
    closed: stats["socket:num_conns_closed"]?.value ?? null
  }
  await endpoint.close()
  const perThousand = (from: number, to: number) => {
    const during = samples.slice(0, cycling)
    const a = during.find((s) => s.accepted >= from)
    const b = [...during].reverse().find((s) => s.accepted <= to)
    return a && b && b.accepted > a.accepted ?
      Math.round(((b.rssMB - a.rssMB) / (b.accepted - a.accepted)) * 1000 * 10) / 10
      : null
  }
  const result = {
    scenario: "iroh-remote-churn",
    date: new Date().toISOString(),
    mode: MODE,
    cycles: CYCLES,
    accepted,
    rssMBPer1000Connections: { first1000: perThousand(0, 1000), after2000: perThousand(2000, Infinity) },
    idleSeconds: IDLE_S,
    rssMB: { afterLastCycle: atLastCycle, afterIdle: samples.at(-1)!.rssMB },
    irohConnections,
    samples
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), "..", "bench", "results", `iroh-remote-churn-${MODE}.json`)
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n")
  console.log(JSON.stringify({ ...result, samples: undefined }))
  process.exit(0)
}

const connectMany = async () => {
  const target = JSON.parse(process.env.TARGET!) as { id: string; addrs: Array<string> }
  const fixedKey = randomBytes(32)
  const deadline = Date.now() + DEADLINE_MS
  for (let i = 0; i < CYCLES && Date.now() < deadline; i++) {
    const endpoint = await bind(MODE === "same" ? fixedKey : randomBytes(32))
    try {
      const addr = new Iroh.EndpointAddr(Iroh.EndpointId.fromString(target.id), null, target.addrs)
      const conn = await Promise.race([
        endpoint.connect(addr, ALPN),
        sleep(5000).then(() => Promise.reject(new Error("connect timed out")))
      ])
      const stream = await conn.openUni()
      await stream.writeAll(Iroh.toNapiBytes(new TextEncoder().encode("hello")))
      await stream.finish()
      await sleep(30)
      conn.close(0n, [])
    } catch (error) {
      console.error("client:", String(error).slice(0, 120))
    }
    await endpoint.close()
  }
  process.exit(0)
}

if (process.argv[2] === "client") void connectMany()
else void serve()
