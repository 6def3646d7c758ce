/**
 * Our `fast` variant in the comparison: the library's named profile for apps that start nodes together
 * (`configProfiles.startTogether`, @dtt/core ConfigProfiles.ts), against the defaults (the Rust crate's).
 */
import { type ConfigInput, configProfiles } from "distributed-topic-tracker"

export const FAST_CONFIG: ConfigInput = configProfiles.startTogether
