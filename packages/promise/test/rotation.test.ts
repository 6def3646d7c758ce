/** A throwing `rotation.derive` (user code) rejects `joinTopic` with a typed error at once, not at the timeout. */
import { describe, expect, it } from "vitest"
import { isTopicTrackerError } from "../src/index.js"
import { useNode, useTestbed } from "./hooks.js"

describe("joinTopic with a failing secret rotation", () => {
  const dht = useTestbed()
  const node = useNode(dht)

  it("rejects with RotationFailed well before its 4 s timeout, and the node stays usable", async () => {
    const rotation = {
      derive: () => {
        throw new Error("vault offline")
      }
    }
    const error: unknown = await node().joinTopic("rotation-fails", "secret", { timeoutMs: 4000, rotation }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(isTopicTrackerError(error) && error._tag).toBe("RotationFailed")
    // (The timeout firing would have said JoinTimeout.)
    const topic = await node().joinTopic("rotation-fails", "secret", { wait: false })
    expect(topic.isClosed()).toBe(false)
    await topic.close()
  })
})
