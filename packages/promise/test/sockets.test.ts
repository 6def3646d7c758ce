/**
 * Closing a node gives back every socket and descriptor: counted from /proc (the iroh endpoint's UDP sockets are
 * native and invisible to Node's handle list), after several createNode/join/close cycles against a long-lived
 * node on a loopback Testbed.
 */
import { ProcessSockets } from "@dtt/testkit"
import { beforeAll, describe, expect, it } from "vitest"
import { createNode, type Topic } from "../src/index.js"
import { useNode, useTestbed } from "./hooks.js"
import { type Bootstrap, loopbackOptions } from "./testbed.js"

const CYCLES = 5
const TOPIC = "promise-socket-cycles"

/** One node's life: created, joined (a neighbour found, or 1.5 s passed), one broadcast, closed. */
const cycle = async (dht: Bootstrap, i: number) => {
  const node = await createNode(loopbackOptions(dht))
  const topic = await node.joinTopic(TOPIC, "secret", { wait: false })
  await Promise.race([topic.joined(), new Promise((resolve) => setTimeout(resolve, 1_500))]).catch(() => undefined)
  await topic.broadcast(`cycle ${i}`).catch(() => undefined)
  await node.close()
}

describe.runIf(ProcessSockets.supported)("sockets after node cycles", () => {
  const dht = useTestbed()
  const anchor = useNode(dht)
  let anchorTopic: Topic
  beforeAll(async () => {
    anchorTopic = await anchor().joinTopic(TOPIC, "secret", { wait: false })
  })

  it(
    `after ${CYCLES} createNode/join/close cycles the process's UDP sockets and fds are back at the baseline`,
    async () => {
      // One cycle first, so lazily created process-wide things (the iroh runtime, its threads) are in the baseline.
      await cycle(dht, -1)
      const baseline = await ProcessSockets.settle(() => false, 500)
      for (let i = 0; i < CYCLES; i++) await cycle(dht, i)
      const after = await ProcessSockets.settle((c) => c.udp <= baseline.udp && c.fds <= baseline.fds, 3_000)
      const growth = ProcessSockets.growth(baseline, after)
      // No growth allowed (a socket the warm-up cycle still held at the baseline may have gone since).
      expect({ udp: Math.max(0, growth.udp), fds: Math.max(0, growth.fds), sockets: Math.max(0, growth.sockets) })
        .toEqual({
          udp: 0,
          fds: 0,
          sockets: 0
        })
      expect(anchorTopic.isClosed()).toBe(false)
    },
    60_000
  )
})
