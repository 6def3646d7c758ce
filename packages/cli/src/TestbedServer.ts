/**
 * A private mainline DHT for multi-process runs (`dtt testbed`): N storing nodes on one host, the first on a
 * fixed port so the bootstrap address can be handed out before anyone starts, the others on free ports
 * bootstrapped from it. Unlike `@dtt/dht-mainline`'s `Testbed` (every port random, made for tests in one
 * process) its address is predictable, and it binds to any host the user asks for.
 */
import type { Crypto, Dht } from "@dtt/core"
import { DhtMainline } from "@dtt/dht-mainline"
import { Effect, type Scope } from "effect"

export interface ServeOptions {
  /** Storing nodes; at least 1. */
  readonly nodes: number
  /** Address every node binds to. */
  readonly host: string
  /** UDP port of the first node (the bootstrap address); 0 picks a free one. */
  readonly port: number
  /** Self-lookup rounds after start so the nodes know each other. Default 2. */
  readonly bootstrapRounds?: number
}

export interface Server {
  /** "host:port" of the first node: what clients pass as `--bootstrap`. */
  readonly bootstrap: string
  readonly nodes: ReadonlyArray<DhtMainline.MainlineNode>
  /** Items held over all nodes, and queries answered by all nodes, for a status line. */
  readonly stats: () => { readonly storedItems: number; readonly queriesAnswered: number }
}

const address = (node: DhtMainline.MainlineNode): string => `${node.address.host}:${node.address.port}`

/** Binds and bootstraps every node in the current scope; closing the scope closes every socket. */
export const serve = (options: ServeOptions): Effect.Effect<Server, Dht.DhtUnavailable, Scope.Scope | Crypto.Crypto> =>
  Effect.gen(function*() {
    const first = yield* DhtMainline.makeNode({
      host: options.host,
      port: options.port,
      storing: { rule: "last-writer-wins" },
      bootstrap: []
    })
    const nodes = [first]
    for (let i = 1; i < options.nodes; i++) {
      nodes.push(
        yield* DhtMainline.makeNode({
          host: options.host,
          port: 0,
          storing: { rule: "last-writer-wins" },
          bootstrap: [address(first)]
        })
      )
    }
    for (let round = 0; round < (options.bootstrapRounds ?? 2); round++) {
      yield* Effect.forEach(nodes, (n) => n.bootstrap, { concurrency: 4, discard: true })
    }
    return {
      bootstrap: address(first),
      nodes,
      stats: () => ({
        storedItems: nodes.reduce((sum, n) => sum + n.storedCount(), 0),
        queriesAnswered: nodes.reduce((sum, n) => sum + n.stats.queriesAnswered, 0)
      })
    }
  })
