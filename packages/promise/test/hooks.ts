/** Vitest hooks that give a `describe` its own loopback DHT and nodes (see `testbed.ts`). */
import { afterAll, beforeAll } from "vitest"
import { createNode, type Node, type NodeOptions } from "../src/index.js"
import { type Bootstrap, type LoopbackDht, loopbackOptions, startTestbed } from "./testbed.js"

/** A loopback DHT for the enclosing `describe`: started before its tests, closed after them. */
export const useTestbed = (size = 8): Bootstrap => {
  let dht: LoopbackDht | undefined
  beforeAll(async () => {
    dht = await startTestbed(size)
  })
  afterAll(() => dht?.close())
  return {
    get bootstrap() {
      if (dht === undefined) throw new Error("the testbed is not started (outside a test?)")
      return dht.bootstrap
    }
  }
}

/**
 * A loopback node on `dht` for the enclosing `describe`, created before its tests and closed after them (vitest
 * runs after-hooks in reverse, so before a `useTestbed` registered earlier closes the DHT).
 */
export const useNode = (dht: Bootstrap, extra: NodeOptions = {}): () => Node => {
  let node: Node | undefined
  beforeAll(async () => {
    node = await createNode(loopbackOptions(dht, extra))
  })
  afterAll(() => node?.close())
  return () => {
    if (node === undefined) throw new Error("the node is not created (outside a test?)")
    return node
  }
}
