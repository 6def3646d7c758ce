export * as Bencode from "./Bencode.js"
export * as DhtMainline from "./DhtMainline.js"
export * as Krpc from "./Krpc.js"
export * as Testbed from "./Testbed.js"
