/**
 * `@dtt/gossip-iroh`: the real `Gossip` service — iroh-gossip 0.101 ported to TypeScript (wire codec, sans-IO
 * protocol) and driven over `@number0/iroh` endpoints.
 */
export * as AddressBook from "./AddressBook.js"
export * as AddressLookup from "./AddressLookup.js"
export * as GossipIroh from "./GossipIroh.js"
export * as NetDriver from "./net/driver.js"
export * as NetEndpoint from "./net/endpoint.js"
export * as Proto from "./proto/index.js"
export * as Wire from "./wire/index.js"
