/**
 * Hyperswarm's side: hyperdht's `testnet` (non-ephemeral DHT nodes on 127.0.0.1) and one `Hyperswarm` per peer,
 * its own HyperDHT client bound to 127.0.0.1, no relays (`relayThrough` unset: Hyperswarm's default). A peer
 * joins as client and server, as Hyperswarm's examples do; the topic is the SHA-256 of the name.
 *
 * Variant `fast`: once the first announce of the join has flushed, `refresh()` once more. Without it two peers
 * that announce at the same moment both look up before the other's announce is stored, and Hyperswarm's next
 * lookup of its own is minutes away.
 */
import HyperDHT, { type DhtAddress } from "hyperdht"
import createTestnet from "hyperdht/testnet.js"
import Hyperswarm from "hyperswarm"
import { createHash } from "node:crypto"
import { deferred, type Peer, type System, type Variant } from "./system.js"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

const startDht = async (size: number) => {
  const testnet = await createTestnet(size, { host: "127.0.0.1" })
  return { bootstrap: testnet.bootstrap, close: () => testnet.destroy() }
}

const createPeer = async (bootstrap: unknown, variant: Variant): Promise<Peer> => {
  const swarm = new Hyperswarm({
    dht: new HyperDHT({ bootstrap: bootstrap as ReadonlyArray<DhtAddress>, host: "127.0.0.1" })
  })
  const first = deferred<number>()
  swarm.on("connection", (connection: { on(event: "error", f: () => void): void }) => {
    // A connection closed by the other side at teardown errors; that is not a failure of the trial.
    connection.on("error", () => undefined)
    first.resolve(performance.now())
  })
  return {
    id: hex(swarm.keyPair.publicKey),
    bootstrapped: () => swarm.dht.fullyBootstrapped(),
    join: async (name) => {
      const discovery = swarm.join(createHash("sha256").update(name).digest(), { server: true, client: true })
      if (variant === "fast") void discovery.flushed().then(() => discovery.refresh()).catch(() => undefined)
    },
    firstNeighbour: first.promise,
    neighbours: () => [...swarm.connections].map((c) => hex(c.remotePublicKey)),
    close: () => swarm.destroy()
  }
}

export const system: System = { name: "hyperswarm", startDht, createPeer }
