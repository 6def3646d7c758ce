/**
 * A private mainline DHT on loopback: N storing nodes on 127.0.0.1, bootstrapped from one another, each with
 * its own storage rule. Clients join it through `bootstrap`. Everything closes with the scope.
 */
import { Bep44, type Crypto, type Dht } from "@dtt/core"
import { Context, Effect, Layer, type Scope } from "effect"
import * as DhtMainline from "./DhtMainline.js"
import { addressKey } from "./internal/address.js"

export interface TestbedOptions {
  /** Number of storing nodes. */
  readonly size: number
  /** One rule for all, or a rule per node index. Default "last-writer-wins". */
  readonly rule?: DhtMainline.StoreRule | ((index: number) => DhtMainline.StoreRule)
  /** Self-lookup rounds after start (each node once per round). Default 2, enough for a well-connected net. */
  readonly bootstrapRounds?: number
  /** Per-node overrides (request timeout, max items, ...); host, port, storing and bootstrap are set here. */
  readonly node?: Omit<DhtMainline.Options, "host" | "port" | "storing" | "bootstrap" | "bootstrapOnStart">
}

export interface Testbed {
  /** "127.0.0.1:port" of a few nodes: hand it to clients as `bootstrap`. */
  readonly bootstrap: ReadonlyArray<string>
  readonly nodes: ReadonlyArray<DhtMainline.MainlineNode>
  readonly rules: ReadonlyArray<DhtMainline.StoreRule>
  /** What each storing node currently holds for the item's slot (one entry per node that holds something). */
  readonly storedItems: (publicKey: Uint8Array, salt: Uint8Array) => ReadonlyArray<Dht.MutableItem>
  /** Options for a client layer on this testbed (loopback bind, its bootstrap), merged with `extra`. */
  readonly clientOptions: (extra?: DhtMainline.Options) => DhtMainline.Options
}

export class TestbedTag extends Context.Tag("@dtt/dht-mainline/Testbed")<TestbedTag, Testbed>() {}

const BOOTSTRAP_ENTRIES = 4

export const make = (options: TestbedOptions): Effect.Effect<Testbed, Dht.DhtUnavailable, Scope.Scope | Crypto.Crypto> =>
  Effect.gen(function* () {
    const ruleOf = (i: number): DhtMainline.StoreRule =>
      typeof options.rule === "function" ? options.rule(i) : (options.rule ?? "last-writer-wins")
    const nodes: Array<DhtMainline.MainlineNode> = []
    const rules: Array<DhtMainline.StoreRule> = []
    for (let i = 0; i < options.size; i++) {
      rules.push(ruleOf(i))
      nodes.push(
        yield* DhtMainline.makeNode({
          ...options.node,
          host: "127.0.0.1",
          port: 0,
          storing: { rule: rules[i]! },
          // Every node starts from the first one; the first learns the others as they query it.
          bootstrap: i === 0 ? [] : [addressKey(nodes[0]!.address)]
        })
      )
    }
    for (let round = 0; round < (options.bootstrapRounds ?? 2); round++) {
      yield* Effect.forEach(nodes, (n) => n.bootstrap, { concurrency: 4, discard: true })
    }
    const bootstrap = nodes.slice(0, BOOTSTRAP_ENTRIES).map((n) => addressKey(n.address))
    return {
      bootstrap,
      nodes,
      rules,
      storedItems: (publicKey, salt) => {
        const target = Bep44.target(publicKey, salt)
        return nodes.flatMap((n) => n.stored(target) ?? [])
      },
      clientOptions: (extra = {}) => ({ ...extra, host: "127.0.0.1", bootstrap })
    }
  })

export const layer = (options: TestbedOptions): Layer.Layer<TestbedTag, Dht.DhtUnavailable, Crypto.Crypto> =>
  Layer.scoped(TestbedTag, make(options))
