/**
 * Which BEP44 slot of a minute a single-slot record publisher reads and writes: its signing seed and salt. Two
 * kinds exist: the Rust-compatible slot (wire.md §2, derived from the topic name alone) and our private slot
 * (`PrivateSlot`, which also needs the minute's encryption seed).
 */
import * as Keys from "../Keys.js"
import * as PrivateSlot from "../PrivateSlot.js"

export type SlotKind = "compatible" | "private"

export type SlotKeys = (
  topicHash: Uint8Array,
  minute: bigint,
  encryptionSeed: Uint8Array
) => { readonly signingSeed: Uint8Array; readonly salt: Uint8Array }

export const compatibleSlotKeys: SlotKeys = (topicHash, minute) => ({
  signingSeed: Keys.signingSeed(topicHash, minute),
  salt: Keys.salt(topicHash, minute)
})

export const privateSlotKeys: SlotKeys = (topicHash, minute, encryptionSeed) => ({
  signingSeed: PrivateSlot.signingSeed(topicHash, minute, encryptionSeed),
  salt: PrivateSlot.salt(topicHash, minute, encryptionSeed)
})
