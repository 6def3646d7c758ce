import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createNode } from "../src/index.js"
import { closedPort, type LoopbackDht, loopbackOptions, startTestbed } from "./testbed.js"

const TOPIC = "promise-peer-cache"
const SECRET = "peer-cache-secret"

describe("peerCache option", () => {
  let dht: LoopbackDht
  let dir: string
  beforeAll(async () => {
    dht = await startTestbed()
    dir = await mkdtemp(join(tmpdir(), "dtt-peer-cache-"))
  })
  afterAll(async () => {
    await dht.close()
    await rm(dir, { recursive: true, force: true })
  })

  it("a node restarted with the same cache and an unreachable DHT rejoins its old neighbour", async () => {
    const a = await createNode(loopbackOptions(dht))
    try {
      await a.joinTopic(TOPIC, SECRET, { wait: false })
      const secretKey = crypto.getRandomValues(new Uint8Array(32))
      const cachePath = join(dir, "b")
      const first = await createNode(loopbackOptions(dht, { secretKey, peerCache: { path: cachePath } }))
      const topic = await first.joinTopic(TOPIC, SECRET, { timeoutMs: 25_000 })
      expect(topic.neighbors()).toContain(a.endpointId)
      await first.close()
      const files = await readdir(cachePath)
      expect(files.length).toBe(1)
      expect(files[0]).not.toContain(TOPIC)

      const deadDht = { ...dht, bootstrap: [`127.0.0.1:${await closedPort()}`] }
      // Without the cache the DHT is the only way in, and it does not answer.
      const uncached = await createNode(loopbackOptions(deadDht, { secretKey }))
      try {
        await expect(uncached.joinTopic(TOPIC, SECRET, { timeoutMs: 3_000 })).rejects.toMatchObject({
          _tag: "JoinTimeout"
        })
      } finally {
        await uncached.close()
      }
      const restarted = await createNode(loopbackOptions(deadDht, { secretKey, peerCache: { path: cachePath } }))
      try {
        const again = await restarted.joinTopic(TOPIC, SECRET, { timeoutMs: 10_000 })
        expect(again.neighbors()).toContain(a.endpointId)
      } finally {
        await restarted.close()
      }
    } finally {
      await a.close()
    }
  }, 60_000)

  it("a path that cannot be a directory rejects createNode with PeerCacheUnavailable", async () => {
    const file = join(dir, "a-file")
    await writeFile(file, "not a directory")
    for (const path of [file, join(file, "below")]) {
      await expect(createNode(loopbackOptions(dht, { peerCache: { path } }))).rejects.toMatchObject({
        _tag: "PeerCacheUnavailable"
      })
    }
    await expect(createNode(loopbackOptions(dht, { peerCache: { path: "" } }))).rejects.toMatchObject({
      _tag: "InvalidArgument"
    })
  })
})
