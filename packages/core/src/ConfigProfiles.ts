/**
 * Named configurations beside the defaults (which are the Rust crate's), as partial `Config` inputs to pass to
 * `Config.decode` / a facade's `config` option (merge your own fields into them).
 *
 * `startTogether`: for apps that start their nodes at about the same time (a test cluster, a fleet rolled out at
 * once, two devices paired on the spot). With the defaults, two nodes that both find the slots empty look again
 * only after `noPeersRetryInterval` (1.5 s) and, having dialled, wait `joinConfirmationWaitTime` (0.5 s) before
 * the next turn; here a node looks again after 100 ms while it is alone. The price is DHT load while alone: the
 * current minute's slot every turn (the previous minute's, while empty, once a second), about 9 gets a second per
 * node and slot kind instead of about 1.3, until the node has a neighbour (the loop stops then). Meant for private DHTs or the first seconds of small groups, not for thousands of lone nodes on the
 * public DHT; `bootstrap.timeout` bounds it. Wire format and the records written are unchanged.
 */
import type { Encoded } from "./Config.js"

export const startTogether = {
  bootstrap: {
    noPeersRetryInterval: 100,
    discoveryPollInterval: 100,
    joinConfirmationWaitTime: 150,
    perPeerJoinSettleTime: 20
  }
} as const satisfies Encoded

/** Every profile by name; `rust` is the defaults. */
export const profiles = { rust: {}, startTogether } as const satisfies Record<string, Encoded>
export type ProfileName = keyof typeof profiles
