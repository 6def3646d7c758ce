import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Option } from "effect"
import * as Config from "../src/Config.js"

const d = Config.defaults

// behaviour.md §1, one row per field: [path, value in the decoded config, expected default]
const table: ReadonlyArray<[string, unknown, unknown]> = [
  ["bootstrap.maxBootstrapRecords", d.bootstrap.maxBootstrapRecords, 5],
  ["bootstrap.privateSlots (ours, PROTOCOL.md \"Private slots\")", d.bootstrap.privateSlots, true],
  ["bootstrap.noPeersRetryInterval", Duration.toMillis(d.bootstrap.noPeersRetryInterval), 1500],
  ["bootstrap.perPeerJoinSettleTime", Duration.toMillis(d.bootstrap.perPeerJoinSettleTime), 100],
  ["bootstrap.joinConfirmationWaitTime", Duration.toMillis(d.bootstrap.joinConfirmationWaitTime), 500],
  ["bootstrap.discoveryPollInterval", Duration.toMillis(d.bootstrap.discoveryPollInterval), 2000],
  ["bootstrap.publishRecordOnStartup", d.bootstrap.publishRecordOnStartup, true],
  ["bootstrap.checkOlderRecordsFirstOnStartup", d.bootstrap.checkOlderRecordsFirstOnStartup, false],
  ["bootstrap.timeout", Option.isNone(d.bootstrap.timeout), true],
  ["bootstrap.initialPeers", d.bootstrap.initialPeers.length, 0],
  ["publisher.enabled", d.publisher.enabled, true],
  ["publisher.initialDelay", Duration.toMillis(d.publisher.initialDelay), 10_000],
  ["publisher.baseInterval", Duration.toMillis(d.publisher.baseInterval), 10_000],
  ["publisher.maxJitter", Duration.toMillis(d.publisher.maxJitter), 50_000],
  [
    "publisher.failTopicCreationOnPublishingStartupFailure",
    d.publisher.failTopicCreationOnPublishingStartupFailure,
    true
  ],
  ["dht.retries", d.dht.retries, 3],
  ["dht.baseRetryInterval", Duration.toMillis(d.dht.baseRetryInterval), 5000],
  ["dht.maxRetryJitter", Duration.toMillis(d.dht.maxRetryJitter), 10_000],
  ["dht.putTimeout", Duration.toMillis(d.dht.putTimeout), 10_000],
  ["dht.getTimeout", Duration.toMillis(d.dht.getTimeout), 10_000],
  ["merge.bubble.enabled", d.merge.bubble.enabled, true],
  ["merge.bubble.initialInterval", Duration.toMillis(d.merge.bubble.initialInterval), 30_000],
  ["merge.bubble.baseInterval", Duration.toMillis(d.merge.bubble.baseInterval), 60_000],
  ["merge.bubble.maxJitter", Duration.toMillis(d.merge.bubble.maxJitter), 120_000],
  ["merge.bubble.minNeighbors", d.merge.bubble.minNeighbors, 4],
  ["merge.bubble.failTopicCreationOnMergeStartupFailure", d.merge.bubble.failTopicCreationOnMergeStartupFailure, true],
  ["merge.bubble.maxJoinPeers", d.merge.bubble.maxJoinPeers, 2],
  ["merge.messageOverlap.enabled", d.merge.messageOverlap.enabled, true],
  ["merge.messageOverlap.initialInterval", Duration.toMillis(d.merge.messageOverlap.initialInterval), 30_000],
  ["merge.messageOverlap.baseInterval", Duration.toMillis(d.merge.messageOverlap.baseInterval), 60_000],
  ["merge.messageOverlap.maxJitter", Duration.toMillis(d.merge.messageOverlap.maxJitter), 120_000],
  ["merge.messageOverlap.maxJoinPeers", d.merge.messageOverlap.maxJoinPeers, 2],
  ["maxJoinPeerCount", d.maxJoinPeerCount, 4],
  ["timeouts.joinPeerTimeout", Duration.toMillis(d.timeouts.joinPeerTimeout), 5000],
  ["timeouts.broadcastTimeout", Duration.toMillis(d.timeouts.broadcastTimeout), 5000],
  ["timeouts.broadcastNeighborsTimeout", Duration.toMillis(d.timeouts.broadcastNeighborsTimeout), 5000]
]

const fromEnvMap = (env: Record<string, string>) =>
  Effect.withConfigProvider(
    Config.config,
    ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }).pipe(ConfigProvider.constantCase)
  )

describe("Config", () => {
  it.each(table)("default of %s is behaviour.md §1's", (_path, actual, expected) => {
    expect(actual).toEqual(expected)
  })

  it("message-overlap merge has no minNeighbors", () => {
    expect("minNeighbors" in d.merge.messageOverlap).toBe(false)
  })

  it("a partial object keeps every other default", () => {
    const c = Config.decodeSync({ bootstrap: { discoveryPollInterval: 3000 }, merge: { bubble: { enabled: false } } })
    expect(Duration.toMillis(c.bootstrap.discoveryPollInterval)).toBe(3000)
    expect(c.bootstrap.maxBootstrapRecords).toBe(5)
    expect(c.merge.bubble.enabled).toBe(false)
    expect(c.merge.bubble.minNeighbors).toBe(4)
    expect(c.merge.messageOverlap.enabled).toBe(true)
  })

  it("maxBootstrapRecords = 0 disables the publisher (the cross-field rule)", () => {
    const c = Config.decodeSync({ bootstrap: { maxBootstrapRecords: 0 } })
    expect(c.publisher.enabled).toBe(false)
    expect(Config.decodeSync({ bootstrap: { maxBootstrapRecords: 1 } }).publisher.enabled).toBe(true)
  })

  it("the new options decode", () => {
    const id = "AB".repeat(32)
    const c = Config.decodeSync({ bootstrap: { timeout: 20_000, initialPeers: [id] } })
    expect(Option.map(c.bootstrap.timeout, Duration.toMillis)).toEqual(Option.some(20_000))
    expect(c.bootstrap.initialPeers).toEqual(["ab".repeat(32)])
  })

  it.each([
    [{ bootstrap: { maxBootstrapRecords: -1 } }, "bootstrap.maxBootstrapRecords"],
    [{ bootstrap: { maxBootstrapRecords: 1.5 } }, "bootstrap.maxBootstrapRecords"],
    [{ publisher: { baseInterval: 0 } }, "publisher.baseInterval"],
    [{ dht: { putTimeout: 0 } }, "dht.putTimeout"],
    [{ dht: { getTimeout: "ten" } }, "dht.getTimeout"],
    [{ merge: { bubble: { maxJoinPeers: 0 } } }, "merge.bubble.maxJoinPeers"],
    [{ merge: { messageOverlap: { baseInterval: -5 } } }, "merge.messageOverlap.baseInterval"],
    [{ timeouts: { broadcastTimeout: Infinity } }, "timeouts.broadcastTimeout"],
    [{ bootstrap: { initialPeers: ["zz"] } }, "bootstrap.initialPeers.0"],
    [{ bootstrap: { timeout: 0 } }, "bootstrap.timeout"],
    [{ maxJoinPeerCount: 0 }, "maxJoinPeerCount"],
    [{ publisher: { enabled: "yes" } }, "publisher.enabled"],
    [{ bootstrap: { typo: 1 } }, "bootstrap.typo"]
  ])("rejects %j naming %s", (input, field) => {
    const result = Config.decodeEither(input)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left.field).toBe(field)
      expect(result.left.message).toContain(field)
    }
  })

  it("encode then decode is the identity", () => {
    const c = Config.decodeSync({ bootstrap: { timeout: 1234 }, publisher: { maxJitter: 0 } })
    expect(Config.decodeSync(Config.encode(c))).toEqual(c)
  })

  it.effect("reads environment variables (DTT_..., CONSTANT_CASE)", () =>
    Effect.gen(function*() {
      const c = yield* fromEnvMap({
        DTT_BOOTSTRAP_MAX_BOOTSTRAP_RECORDS: "7",
        DTT_BOOTSTRAP_TIMEOUT: "60000",
        DTT_PUBLISHER_ENABLED: "false",
        DTT_MERGE_BUBBLE_MIN_NEIGHBORS: "2",
        DTT_MERGE_MESSAGE_OVERLAP_MAX_JITTER: "0",
        DTT_TIMEOUTS_JOIN_PEER_TIMEOUT: "1000",
        DTT_BOOTSTRAP_INITIAL_PEERS: `${"01".repeat(32)},${"02".repeat(32)}`
      })
      expect(c.bootstrap.maxBootstrapRecords).toBe(7)
      expect(Option.map(c.bootstrap.timeout, Duration.toMillis)).toEqual(Option.some(60_000))
      expect(c.publisher.enabled).toBe(false)
      expect(c.merge.bubble.minNeighbors).toBe(2)
      expect(Duration.toMillis(c.merge.messageOverlap.maxJitter)).toBe(0)
      expect(Duration.toMillis(c.timeouts.joinPeerTimeout)).toBe(1000)
      expect(c.bootstrap.initialPeers).toEqual(["01".repeat(32), "02".repeat(32)])
      expect(c.dht.retries).toBe(3)
    }))

  it.effect("no environment variables = the defaults", () =>
    Effect.gen(function*() {
      expect(yield* fromEnvMap({})).toEqual(Config.defaults)
    }))

  it.effect("a bad environment value names the field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromEnvMap({ DTT_DHT_PUT_TIMEOUT: "soon" }))
      expect(String(error)).toMatch(/DHT.PUT_TIMEOUT|dht.putTimeout|putTimeout/i)
      const zero = yield* Effect.flip(fromEnvMap({ DTT_MERGE_BUBBLE_MAX_JOIN_PEERS: "0" }))
      expect(String(zero)).toMatch(/MAX_JOIN_PEERS|maxJoinPeers/)
    }))
})
