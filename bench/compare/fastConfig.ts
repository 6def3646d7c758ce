/**
 * Our `fast` variant in the comparison: shorter bootstrap waits than the defaults (which are the Rust crate's:
 * retry 1.5 s when no record is found, poll 2 s, wait 0.5 s for a join to be confirmed), for apps that start
 * nodes together. Only the bench's choice, not a profile of the library.
 */
import type { ConfigInput } from "distributed-topic-tracker"

export const FAST_CONFIG: ConfigInput = {
  bootstrap: { noPeersRetryInterval: 200, discoveryPollInterval: 200, joinConfirmationWaitTime: 200, perPeerJoinSettleTime: 50 }
}
