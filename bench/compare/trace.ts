/**
 * Where a late join's time goes (ours only): `npx tsc -b && node bench/compare/dist/trace.js`. An anchor joins
 * through the facade and settles; then a joiner is built from the same layers as the facade's `createNode`, with
 * its `Dht` service wrapped to print every get/put (start, end, values) and Debug logs on, all in ms from the
 * joiner's construction. Prints a timeline; writes nothing.
 */
import { Config, Crypto, Dht, NodeIdentity, Topic, TopicId } from "@dtt/core"
import { DhtMainline, Testbed } from "@dtt/dht-mainline"
import { AddressLookup, GossipIroh } from "@dtt/gossip-iroh"
import { createNode } from "distributed-topic-tracker"
import { Effect, Exit, Layer, Logger, LogLevel, ManagedRuntime, Scope } from "effect"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
let t0 = performance.now()
const at = () => `${(performance.now() - t0).toFixed(0).padStart(5)} ms`
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").slice(0, 8)
const text = (message: unknown): string =>
  Array.isArray(message) ? message.map(text).join(" ") : typeof message === "string" ?
    message
    : JSON.stringify(message, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))

/** The `Dht` service of the layer below it, every call printed. `anchorId`: whose address lookups to name. */
const tracedDht = (anchorKey: string) =>
  Layer.effect(
    Dht.Dht,
    Effect.map(Dht.Dht, (dht): Dht.DhtService => {
      const kind = (publicKey: Uint8Array, salt: Uint8Array) =>
        salt.length > 0
          ? `record ${hex(publicKey)}`
          : Buffer.from(publicKey).toString("hex") === anchorKey
          ? "address of the anchor"
          : `address ${hex(publicKey)}`
      return {
        getMutable: (publicKey, salt) =>
          Effect.suspend(() => {
            const name = kind(publicKey, salt)
            console.log(`${at()} get ${name}: start`)
            return dht.getMutable(publicKey, salt).pipe(
              Effect.tap((items) => console.log(`${at()} get ${name}: ${items.length} value(s)`)),
              Effect.tapError((e) => Effect.sync(() => console.log(`${at()} get ${name}: ${e._tag}`)))
            )
          }),
        findMutable: (publicKey, salt, accept) =>
          Effect.suspend(() => {
            const name = kind(publicKey, salt)
            console.log(`${at()} find ${name}: start`)
            return Dht.firstMutable(dht, publicKey, salt, accept).pipe(
              Effect.tap((found) => console.log(`${at()} find ${name}: ${found._tag === "Some" ? "found" : "none"}`)),
              Effect.tapError((e) => Effect.sync(() => console.log(`${at()} find ${name}: ${e._tag}`)))
            )
          }),
        putMutable: (item, options) =>
          Effect.suspend(() => {
            const name = kind(item.publicKey, item.salt)
            console.log(`${at()} put ${name}: start`)
            return dht.putMutable(item, options).pipe(
              Effect.tap((r) => console.log(`${at()} put ${name}: stored at ${r.storedAt}`)),
              Effect.tapError((e) => Effect.sync(() => console.log(`${at()} put ${name}: ${e._tag}`)))
            )
          })
      }
    })
  )

const main = async () => {
  const scope = Effect.runSync(Scope.make())
  const bed = await Effect.runPromise(
    Testbed.make({ size: 20 }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode))
  )
  const gossip = { bindAddress: "127.0.0.1:0", relay: "disabled", preset: "minimal" } as const
  const anchor = await createNode({ bootstrap: bed.bootstrap, bindAddress: "127.0.0.1", gossip })
  const name = `trace-${Date.now()}`
  await anchor.joinTopic(name, "compare-secret", { wait: false })
  await sleep(2500)

  t0 = performance.now()
  console.log(`${at()} joiner: construction`)
  const identity = NodeIdentity.generate()
  const base = Layer.mergeAll(
    Crypto.layerNode,
    Layer.succeed(NodeIdentity.NodeIdentity, identity),
    tracedDht(anchor.endpointId).pipe(
      Layer.provide(DhtMainline.layer({ bootstrap: bed.bootstrap, host: "127.0.0.1" })),
      Layer.provide(Crypto.layerNode)
    )
  )
  const gossipLayer = Layer.unwrapScoped(
    Effect.map(
      AddressLookup.dht({ addresses: "all" }),
      (lookup) =>
        GossipIroh.layer({ bindAddr: "127.0.0.1:0", preset: "minimal", relay: { _tag: "Disabled" }, lookups: [lookup] })
    )
  )
  const logger = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => console.log(`${at()} ${logLevel.label.toLowerCase()}: ${text(message)}`))
  )
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(Layer.provideMerge(gossipLayer, base), logger, Logger.minimumLogLevel(LogLevel.Debug))
  )
  await runtime.runPromise(Effect.void)
  console.log(`${at()} joiner: layers built`)
  const topicScope = Effect.runSync(Scope.make())
  const topic = await runtime.runPromise(
    Topic.joinNoWait(TopicId.fromName(name), { secret: "compare-secret", config: Config.defaults }).pipe(
      Scope.extend(topicScope)
    )
  )
  console.log(`${at()} joiner: subscribed`)
  const joined = await Promise.race([
    runtime.runPromise(topic.joined).then(() => true),
    sleep(10_000).then(() => false)
  ])
  console.log(`${at()} joiner: ${joined ? "first neighbour" : "no neighbour within 10 s"}`)
  await sleep(300)
  await Effect.runPromise(Scope.close(topicScope, Exit.void))
  await runtime.dispose()
  await anchor.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  process.exit(0)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
