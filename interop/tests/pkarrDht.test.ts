// pkarr endpoint records through the DHT: Rust mainline storing nodes (interop/mainline) between our
// `AddressLookup.dht` and Rust clients, with iroh-dns (interop/pkarr) signing and reading the records.
// The codec alone, byte for byte: pkarr.test.ts.
import { Crypto, Dht, NodeIdentity } from "@dtt/core"
import { DhtMainline } from "@dtt/dht-mainline"
import { Duration, Effect, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as AddressLookup from "../../packages/gossip-iroh/src/AddressLookup.js"
import { type Json, toHex } from "./jsonLines.js"
import { rust, seedOf } from "./pkarrSupport.js"
import { rustClient, useRustNodes } from "./rustMainline.js"

/** Our `AddressLookup.dht` for `identity`, on a TS mainline client bootstrapped from `bootstrap`. */
const withLookup = <A, E>(
  bootstrap: ReadonlyArray<string>,
  identity: NodeIdentity.NodeIdentity,
  use: (lookup: AddressLookup.AddressLookup) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const { dht, node } = yield* DhtMainline.makeService({
      host: "127.0.0.1",
      bootstrap,
      requestTimeout: Duration.seconds(1),
      bootstrapOnStart: false,
      dht: { retries: 0 }
    })
    yield* node.bootstrap
    const lookup = yield* AddressLookup.dht().pipe(
      Effect.provide(Layer.mergeAll(Layer.succeed(Dht.Dht, dht), Layer.succeed(NodeIdentity.NodeIdentity, identity)))
    )
    return yield* use(lookup)
  }).pipe(Effect.scoped, Effect.provide(Crypto.layerNode), Effect.runPromise)

describe("pkarr records through Rust mainline storing nodes", () => {
  const rustNodes = useRustNodes(8)

  it("our AddressLookup.dht publishes; a Rust mainline client gets the item (no salt) and iroh reads our addresses", async () => {
    const identity = NodeIdentity.fromSecretKey(seedOf(200))
    const addr = {
      id: identity.endpointId,
      relayUrl: "https://relay.example/",
      directAddresses: ["127.0.0.1:4433", "[::1]:4433"]
    }
    await withLookup(rustNodes.addrs, identity, (lookup) => lookup.publish(addr))
    const [got] = await rustClient(rustNodes.addrs, [{ op: "get", pubkey: toHex(identity.publicKey) }])
    const items = got!.items as Array<Json>
    expect(items.length).toBeGreaterThan(0)
    const replies = rust(items.map((item) => ({
      op: "parse",
      public_key: item.key,
      timestamp: item.seq,
      signature: item.sig,
      packet: item.value
    })))
    for (const [i, reply] of replies.entries()) {
      expect(items[i]!.salt ?? null).toBeNull()
      expect(reply).toMatchObject({ verified: true, relays: [addr.relayUrl], addrs: addr.directAddresses })
    }
  })

  it("a record iroh signed, put by a Rust mainline client, resolves through our AddressLookup.dht", async () => {
    const seed = seedOf(201)
    const identity = NodeIdentity.fromSecretKey(seed)
    const [signed] = rust([{
      op: "sign",
      seed: toHex(seed),
      relays: [],
      addrs: ["192.168.7.7:7777", "[fe80::1]:7777"],
      ttl: 30
    }])
    const [put] = await rustClient(rustNodes.addrs, [
      { op: "put", seed: toHex(seed), value: signed!.packet, seq: signed!.timestamp }
    ])
    expect(put!.error).toBeUndefined()
    // mainline signs the BEP44 item itself: deterministic Ed25519 over the same signable gives iroh's signature.
    expect((put!.item as Json).sig).toBe(signed!.signature)
    const resolved = await withLookup(
      rustNodes.addrs,
      NodeIdentity.generate(),
      (lookup) => lookup.resolve(identity.endpointId)
    )
    expect(resolved).toEqual(
      Option.some({
        id: identity.endpointId,
        relayUrl: undefined,
        directAddresses: ["192.168.7.7:7777", "[fe80::1]:7777"]
      })
    )
  })
})
