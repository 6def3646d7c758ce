/**
 * The iroh-gossip 0.101 wire codec: postcard messages, PeerData/AddrInfo, framing and size limits.
 */
export * from "./errors.js"
export * from "./messages.js"
export * from "./addrInfo.js"
export * from "./socketAddr.js"
export * from "./frame.js"
export { isValidEndpointId, isValidPublicKeyBytes } from "./publicKey.js"
