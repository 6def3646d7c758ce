/**
 * The iroh-gossip 0.101 wire codec: postcard messages, PeerData/AddrInfo, framing and size limits.
 */
export * from "./addrInfo.js"
export * from "./errors.js"
export * from "./frame.js"
export * from "./messages.js"
export { isValidEndpointId, isValidPublicKeyBytes } from "./publicKey.js"
export * from "./socketAddr.js"
