// The few parts of hyperswarm 4 / hyperdht 6 (plain JavaScript, no types) that the comparison uses.
declare module "hyperdht" {
  export interface DhtAddress {
    readonly host: string
    readonly port: number
  }
  export interface HyperDHTOptions {
    readonly bootstrap?: ReadonlyArray<DhtAddress>
    readonly host?: string
    readonly port?: number
    readonly ephemeral?: boolean
    readonly firewalled?: boolean
  }
  export default class HyperDHT {
    constructor(options?: HyperDHTOptions)
    fullyBootstrapped(): Promise<void>
    destroy(options?: { readonly force?: boolean }): Promise<void>
  }
}

declare module "hyperdht/testnet.js" {
  import type HyperDHT from "hyperdht"
  import type { DhtAddress } from "hyperdht"
  export interface Testnet {
    readonly nodes: ReadonlyArray<HyperDHT>
    readonly bootstrap: ReadonlyArray<DhtAddress>
    destroy(): Promise<void>
  }
  export default function createTestnet(size: number, options?: { readonly host?: string }): Promise<Testnet>
}

declare module "hyperswarm" {
  import type HyperDHT from "hyperdht"
  import type { EventEmitter } from "node:events"
  export interface PeerDiscovery {
    flushed(): Promise<boolean>
    refresh(): Promise<boolean>
  }
  export interface Connection {
    readonly remotePublicKey: Uint8Array
    on(event: "error", listener: (error: Error) => void): this
  }
  export default class Hyperswarm extends EventEmitter {
    constructor(options?: { readonly dht?: HyperDHT; readonly bootstrap?: ReadonlyArray<unknown> })
    readonly dht: HyperDHT
    readonly keyPair: { readonly publicKey: Uint8Array }
    readonly connections: Set<Connection>
    join(topic: Uint8Array, options?: { readonly server?: boolean; readonly client?: boolean }): PeerDiscovery
    destroy(): Promise<void>
  }
}
