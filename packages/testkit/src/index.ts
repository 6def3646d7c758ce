export * as MemoryDht from "./MemoryDht.js"
export * as MemoryGossip from "./MemoryGossip.js"
export * as SimNetwork from "./SimNetwork.js"
export * as TestItems from "./TestItems.js"
