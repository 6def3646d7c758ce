/**
 * A node: one identity, one DHT client, one gossip endpoint, shared by every topic it joins. It owns an Effect
 * runtime whose scope holds all of that; `close()` leaves its topics and then releases sockets, timers and
 * fibers, so nothing keeps the process alive afterwards.
 */
import { Topic as CoreTopic } from "@dtt/core"
import { GossipIroh } from "@dtt/gossip-iroh"
import { Duration, Effect, Exit, ManagedRuntime, Scope } from "effect"
import { TopicTrackerError } from "./Errors.js"
import { type ResolvedNodeOptions, resolveJoin, resolveNodeOptions } from "./internal/options.js"
import { NODE_CLOSED, toError } from "./internal/run.js"
import { type MetricSample, snapshot } from "./Metrics.js"
import * as NodeLayer from "./NodeLayer.js"
import type { JoinOptions, NodeOptions } from "./Options.js"
import { type Topic, TopicHandle } from "./Topic.js"

export interface Node extends AsyncDisposable {
  /** This node's iroh endpoint id: its Ed25519 public key as 64 hex characters. */
  readonly endpointId: string
  /**
   * Join a topic by name (or by its 32-byte id) with the shared secret. By default resolves once a peer has
   * been found; see `JoinOptions`.
   */
  joinTopic(topic: string | Uint8Array, secret: string | Uint8Array, options?: JoinOptions): Promise<Topic>
  /** The topics joined and not yet closed. */
  topics(): ReadonlyArray<Topic>
  isClosed(): boolean
  /**
   * The `dtt_` metrics now (DHT gets and puts, records, joins, dials, neighbours, messages and bytes), as plain
   * objects. Process-wide: with several nodes in one process, their sums.
   */
  metrics(): ReadonlyArray<MetricSample>
  /** Close every topic, then the gossip endpoint and the DHT client. Idempotent. */
  close(): Promise<void>
}

class NodeHandle implements Node {
  readonly endpointId: string
  /** Dropped once disposed: the runtime keeps its services (the iroh endpoint with them) reachable. */
  #runtime: ManagedRuntime.ManagedRuntime<NodeLayer.Services, NodeLayer.StartError> | undefined
  readonly #options: ResolvedNodeOptions
  readonly #topics = new Set<TopicHandle>()
  /** Aborted on close: interrupts joins still in flight. */
  readonly #abort = new AbortController()
  readonly #pending = new Set<Promise<unknown>>()
  #closing: Promise<void> | undefined

  constructor(
    runtime: ManagedRuntime.ManagedRuntime<NodeLayer.Services, NodeLayer.StartError>,
    options: ResolvedNodeOptions
  ) {
    this.#runtime = runtime
    this.#options = options
    this.endpointId = options.identity.endpointId
  }

  joinTopic(topic: string | Uint8Array, secret: string | Uint8Array, options?: JoinOptions): Promise<Topic> {
    return this.joinWithCloseHook(topic, secret, options, undefined)
  }

  /** @internal `joinTopic`, running `onClosed` after the topic has closed (module-level `joinTopic` closes the node). */
  joinWithCloseHook(
    topic: unknown,
    secret: unknown,
    options: unknown,
    onClosed: (() => Promise<void>) | undefined
  ): Promise<Topic> {
    const join = this.#join(topic, secret, options, onClosed)
    this.#pending.add(join)
    void join.catch(() => undefined).finally(() => this.#pending.delete(join))
    return join
  }

  async #join(
    topicInput: unknown,
    secretInput: unknown,
    optionsInput: unknown,
    onClosed?: () => Promise<void>
  ): Promise<Topic> {
    const join = resolveJoin(topicInput, secretInput, optionsInput)
    if (this.isClosed()) throw new TopicTrackerError(NODE_CLOSED.tag, NODE_CLOSED.message)
    const scope = Effect.runSync(Scope.make())
    const joinOptions: CoreTopic.JoinOptions = {
      secret: join.secret,
      config: this.#options.config,
      ...(join.timeoutMs === undefined ? {} : { timeout: Duration.millis(join.timeoutMs) }),
      ...(join.rotation === undefined ? {} : { rotation: join.rotation })
    }
    const joining = (join.wait ? CoreTopic.join : CoreTopic.joinNoWait)(join.topicId, joinOptions)
    const runtime = this.#runtime
    if (runtime === undefined) throw new TopicTrackerError(NODE_CLOSED.tag, NODE_CLOSED.message)
    const exit = await runtime.runPromiseExit(Scope.extend(joining, scope), { signal: this.#abort.signal })
    if (Exit.isFailure(exit)) {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      throw toError(exit.cause, NODE_CLOSED)
    }
    const handle: TopicHandle = new TopicHandle(exit.value, scope, async () => {
      this.#topics.delete(handle)
      await onClosed?.()
    })
    this.#topics.add(handle)
    if (this.isClosed()) {
      // The node started closing while the join was finishing: it may already have closed its other topics.
      await handle.leave()
      throw new TopicTrackerError(NODE_CLOSED.tag, NODE_CLOSED.message)
    }
    return handle
  }

  topics(): ReadonlyArray<Topic> {
    return [...this.#topics]
  }

  isClosed(): boolean {
    return this.#closing !== undefined
  }

  metrics(): ReadonlyArray<MetricSample> {
    return snapshot()
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort()
      await Promise.allSettled([...this.#pending])
      // Not `close()`: a topic's own close hook may be closing this node (module-level `joinTopic`).
      await Promise.allSettled([...this.#topics].map((topic) => topic.leave()))
      await this.#runtime?.dispose()
      this.#runtime = undefined
      // iroh's napi endpoint keeps its sockets until the JS object is collected; the runtime dropped it just now.
      await GossipIroh.releaseClosedEndpoints()
    })()
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/**
 * Start a node: bind the DHT socket and the gossip endpoint. Rejects with `InvalidArgument`/`InvalidConfig`
 * for bad options, or with the tag of whatever failed to start (e.g. `EndpointBindError`).
 */
export const createNode = async (options?: NodeOptions): Promise<Node> => {
  const resolved = resolveNodeOptions(options)
  const runtime = ManagedRuntime.make(NodeLayer.make(NodeLayer.partsOfResolved(resolved)))
  const built = await runtime.runPromiseExit(Effect.void)
  if (Exit.isFailure(built)) {
    await runtime.dispose()
    await GossipIroh.releaseClosedEndpoints()
    throw toError(built.cause, NODE_CLOSED)
  }
  return new NodeHandle(runtime, resolved)
}

/**
 * Start a node and join one topic with it: the shortest way in. Closing the returned topic closes its node.
 * `options` takes both the node's and the join's options.
 */
export const joinTopic = async (
  topic: string | Uint8Array,
  secret: string | Uint8Array,
  options?: NodeOptions & JoinOptions
): Promise<Topic> => {
  const { wait, timeoutMs, rotation, ...nodeOptions } = options ?? {}
  // Check the join arguments before binding any socket.
  resolveJoin(topic, secret, { wait, timeoutMs, rotation })
  const node = (await createNode(nodeOptions)) as NodeHandle
  try {
    // No loop: `node.close` leaves its topics with `leave`, which does not run this hook.
    return await node.joinWithCloseHook(topic, secret, { wait, timeoutMs, rotation }, () => node.close())
  } catch (error) {
    await node.close()
    throw error
  }
}
