// The parts of k-bucket 5.1.0 (plain JavaScript, no bundled types) that the routing table uses.
declare module "k-bucket" {
  import { EventEmitter } from "node:events"

  // Node gives an ES module importing this CommonJS package its `module.exports` as the default export.
  namespace KBucket {
    interface Contact {
      readonly id: Uint8Array
      vectorClock?: number
    }
    interface Options {
      readonly localNodeId: Uint8Array
      readonly numberOfNodesPerKBucket?: number
      readonly numberOfNodesToPing?: number
    }
  }

  class KBucket<C extends KBucket.Contact = KBucket.Contact> extends EventEmitter {
    constructor(options: KBucket.Options)
    readonly localNodeId: Uint8Array
    add(contact: C): this
    closest(id: Uint8Array, n?: number): Array<C>
    count(): number
    get(id: Uint8Array): C | null
    remove(id: Uint8Array): this
    toArray(): Array<C>
  }

  export default KBucket
}
