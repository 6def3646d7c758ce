/**
 * Checking what plain JavaScript callers pass (anything can arrive: no type checker stands between them and
 * us) and turning it into the values the Effect layers take. Every check throws `InvalidArgument` or
 * `InvalidConfig` with a message naming the option.
 */
import { Config, NodeIdentity, TopicId } from "@dtt/core"
import { DhtMainline } from "@dtt/dht-mainline"
import { Either } from "effect"
import { invalidArgument, TopicTrackerError } from "../Errors.js"
import type { GossipOptions, JoinOptions, NodeOptions, SecretRotation } from "../Options.js"

const isBytes = (u: unknown): u is Uint8Array => u instanceof Uint8Array

const kind = (u: unknown): string =>
  u === null ? "null" : Array.isArray(u) ? "an array" : isBytes(u) ? `${u.length} bytes` : typeof u

const checkObject = (u: unknown, what: string): Record<string, unknown> => {
  if (u === undefined) return {}
  if (typeof u !== "object" || u === null || Array.isArray(u) || isBytes(u)) {
    throw invalidArgument(`${what} must be an object, got ${kind(u)}`)
  }
  return u as Record<string, unknown>
}

const checkKnownKeys = (object: Record<string, unknown>, known: ReadonlyArray<string>, what: string) => {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw invalidArgument(`${what} has no option "${key}" (known: ${known.join(", ")})`)
  }
}

const checkString = (u: unknown, what: string): string | undefined => {
  if (u === undefined) return undefined
  if (typeof u !== "string" || u === "") throw invalidArgument(`${what} must be a non-empty string, got ${kind(u)}`)
  return u
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/

const checkHostPort = (s: string, what: string): string => {
  const match = HOST_PORT.exec(s)
  const port = match ? Number(match[1]) : -1
  if (!match || port > 65535) throw invalidArgument(`${what} must look like "host:port", got ${JSON.stringify(s)}`)
  return s
}

export interface ResolvedNodeOptions {
  readonly identity: NodeIdentity.NodeIdentity
  readonly dht: DhtMainline.Options
  readonly gossip:
    & Required<Pick<GossipOptions, "bindAddress" | "preset" | "publishAddresses">>
    & Pick<GossipOptions, "sendQueueCapacity" | "sendQueueTimeout" | "drainTimeout">
    & {
      readonly relay: { readonly _tag: "Disabled" } | { readonly _tag: "Default" } | {
        readonly _tag: "Custom"
        readonly urls: ReadonlyArray<string>
      }
    }
  readonly config: Config.Config
  /** The peer cache's directory, if any. */
  readonly peerCachePath: string | undefined
}

const NODE_KEYS = ["secretKey", "bootstrap", "bindAddress", "port", "gossip", "config", "peerCache"]
const GOSSIP_KEYS = [
  "bindAddress",
  "relay",
  "preset",
  "publishAddresses",
  "sendQueueCapacity",
  "sendQueueTimeout",
  "drainTimeout"
]

/** `u` if it is absent or an integer in `min`..`max`; otherwise an InvalidArgument naming `what`. */
const checkInteger = (u: unknown, what: string, min: number, max: number): number | undefined => {
  if (u === undefined) return undefined
  if (typeof u !== "number" || !Number.isInteger(u) || u < min || u > max) {
    throw invalidArgument(`${what} must be an integer in ${min}..${max}, got ${kind(u)} ${String(u)}`)
  }
  return u
}

/** An hour: longer waits in a send queue or on close are a mistake, not a setting. */
const MAX_WAIT_MS = 3_600_000

export const decodeConfig = (input: unknown, what: string): Config.Config => {
  const decoded = Config.decodeEither(checkObject(input, what))
  if (Either.isLeft(decoded)) {
    const error = decoded.left
    throw new TopicTrackerError("InvalidConfig", `invalid ${what}.${error.field}: ${error.reason}`, { cause: error })
  }
  return decoded.right
}

const resolveGossip = (input: unknown): ResolvedNodeOptions["gossip"] => {
  const gossip = checkObject(input, "options.gossip") as GossipOptions
  checkKnownKeys(gossip as Record<string, unknown>, GOSSIP_KEYS, "options.gossip")
  const bindAddress = checkHostPort(
    checkString(gossip.bindAddress, "options.gossip.bindAddress") ?? "0.0.0.0:0",
    "options.gossip.bindAddress"
  )
  const preset = gossip.preset ?? "n0"
  if (preset !== "n0" && preset !== "minimal") {
    throw invalidArgument(`options.gossip.preset must be "n0" or "minimal", got ${JSON.stringify(preset)}`)
  }
  const publishAddresses = gossip.publishAddresses ?? "all"
  if (publishAddresses !== "all" && publishAddresses !== "relay-only") {
    throw invalidArgument(
      `options.gossip.publishAddresses must be "all" or "relay-only", got ${JSON.stringify(publishAddresses)}`
    )
  }
  const relayInput: unknown = gossip.relay ?? "default"
  let relay: ResolvedNodeOptions["gossip"]["relay"]
  if (relayInput === "default") relay = { _tag: "Default" }
  else if (relayInput === "disabled") relay = { _tag: "Disabled" }
  else if (
    Array.isArray(relayInput) && relayInput.length > 0 && relayInput.every((u) => typeof u === "string" && u !== "")
  ) {
    relay = { _tag: "Custom", urls: [...relayInput] }
  } else {
    throw invalidArgument(
      `options.gossip.relay must be "default", "disabled" or a non-empty array of relay URLs, got ${kind(relayInput)}`
    )
  }
  const sendQueueCapacity = checkInteger(gossip.sendQueueCapacity, "options.gossip.sendQueueCapacity", 1, 1 << 20)
  const sendQueueTimeout = checkInteger(gossip.sendQueueTimeout, "options.gossip.sendQueueTimeout", 0, MAX_WAIT_MS)
  const drainTimeout = checkInteger(gossip.drainTimeout, "options.gossip.drainTimeout", 0, MAX_WAIT_MS)
  return {
    bindAddress,
    preset,
    publishAddresses,
    relay,
    ...(sendQueueCapacity === undefined ? {} : { sendQueueCapacity }),
    ...(sendQueueTimeout === undefined ? {} : { sendQueueTimeout }),
    ...(drainTimeout === undefined ? {} : { drainTimeout })
  }
}

export const resolveNodeOptions = (input: unknown): ResolvedNodeOptions => {
  const options = checkObject(input, "options") as NodeOptions
  checkKnownKeys(options as Record<string, unknown>, NODE_KEYS, "options")

  let identity: NodeIdentity.NodeIdentity
  if (options.secretKey === undefined) identity = NodeIdentity.generate()
  else if (!isBytes(options.secretKey) || options.secretKey.length !== 32) {
    throw invalidArgument(`options.secretKey must be 32 bytes (a Uint8Array), got ${kind(options.secretKey)}`)
  } else identity = NodeIdentity.fromSecretKey(options.secretKey)

  let bootstrap: ReadonlyArray<string> | undefined
  if (options.bootstrap !== undefined) {
    if (!Array.isArray(options.bootstrap)) {
      throw invalidArgument(`options.bootstrap must be an array of "host:port" strings, got ${kind(options.bootstrap)}`)
    }
    bootstrap = options.bootstrap.map((entry, i) =>
      checkHostPort(checkString(entry, `options.bootstrap[${i}]`) ?? "", `options.bootstrap[${i}]`)
    )
  }
  const host = checkString(options.bindAddress, "options.bindAddress")
  const port = options.port
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw invalidArgument(`options.port must be an integer in 0..65535, got ${kind(port)} ${String(port)}`)
  }
  const config = decodeConfig(options.config, "options.config")
  let peerCachePath: string | undefined
  if (options.peerCache !== undefined) {
    const peerCache = checkObject(options.peerCache, "options.peerCache")
    checkKnownKeys(peerCache, ["path"], "options.peerCache")
    peerCachePath = checkString(peerCache["path"], "options.peerCache.path")
    if (peerCachePath === undefined) throw invalidArgument("options.peerCache.path is required")
  }
  return {
    identity,
    dht: {
      bootstrap: bootstrap ?? DhtMainline.DEFAULT_BOOTSTRAP,
      host: host ?? "0.0.0.0",
      port: port ?? 0,
      dht: config.dht
    },
    gossip: resolveGossip(options.gossip),
    config,
    peerCachePath
  }
}

export interface ResolvedJoin {
  readonly topicId: TopicId.TopicId
  readonly secret: string | Uint8Array
  readonly wait: boolean
  readonly timeoutMs: number | undefined
  readonly rotation: SecretRotation | undefined
}

const JOIN_KEYS = ["wait", "timeoutMs", "rotation"]

export const resolveJoin = (
  topic: unknown,
  secret: unknown,
  input: unknown,
  extraKeys: ReadonlyArray<string> = []
): ResolvedJoin => {
  let topicId: TopicId.TopicId
  if (typeof topic === "string") {
    if (topic === "") throw invalidArgument("topic name must not be empty")
    topicId = TopicId.fromName(topic)
  } else if (isBytes(topic)) {
    const id = TopicId.fromHash(topic)
    if (Either.isLeft(id)) {
      throw invalidArgument(
        `a topic id must be 32 bytes (a topic hash), got ${topic.length} bytes; pass a string to join by name`
      )
    }
    topicId = id.right
  } else throw invalidArgument(`topic must be a name (string) or a 32-byte topic id (Uint8Array), got ${kind(topic)}`)

  if (!(typeof secret === "string" || isBytes(secret))) {
    throw invalidArgument(`secret must be a string or a Uint8Array, got ${kind(secret)}`)
  }

  const options = checkObject(input, "join options") as JoinOptions
  checkKnownKeys(options as Record<string, unknown>, [...JOIN_KEYS, ...extraKeys], "join options")
  if (options.wait !== undefined && typeof options.wait !== "boolean") {
    throw invalidArgument(`join options.wait must be a boolean, got ${kind(options.wait)}`)
  }
  const timeoutMs = options.timeoutMs
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw invalidArgument(`join options.timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`)
  }
  const rotation = options.rotation
  if (rotation !== undefined && typeof rotation?.derive !== "function") {
    throw invalidArgument(
      "join options.rotation must be an object with a derive(topicHash, unixMinute, secretHash) function"
    )
  }
  return { topicId, secret, wait: options.wait ?? true, timeoutMs, rotation }
}
