/**
 * Byte helpers the packages share (hex, equality, concatenation, UTF-8), so each does not keep its own copy.
 * None of them throws on any input.
 */
export { concat, equal, fromHex, toHex, utf8 } from "./internal/bytes.js"
