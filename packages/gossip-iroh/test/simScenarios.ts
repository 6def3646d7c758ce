/** The four scenarios of iroh-gossip's tests/sim.rs, shared by the default tests and the seed-sweep script. */
import { makeProtoConfig } from "../src/proto/index.js"
import { defaultSimulatorConfig, type NetworkReport, type RoundStats, Simulator } from "../src/proto/sim.js"

const bytes = (s: string) => new TextEncoder().encode(s)

export interface ScenarioOptions {
  readonly peers?: number
  readonly rounds?: number
}

export interface ScenarioResult {
  readonly mean: RoundStats
  readonly rounds: ReadonlyArray<RoundStats>
  readonly emptyAfterBootstrap: number
}

const make = (seed: number, peers: number, shuffleInterval?: number) =>
  new Simulator(
    { ...defaultSimulatorConfig, seed, peers },
    shuffleInterval === undefined ? {} : { proto: makeProtoConfig({ membership: { shuffleInterval } }) }
  )

export const bigHyparview = (seed: number, o: ScenarioOptions = {}): NetworkReport =>
  make(seed, o.peers ?? 100, 5_000).bootstrap()

export const bigSingleSender = (seed: number, o: ScenarioOptions = {}): ScenarioResult => {
  const sim = make(seed, o.peers ?? 100)
  const empty = sim.bootstrap().peersWithoutNeighbors.length
  const from = sim.randomPeer()
  for (let i = 0; i < (o.rounds ?? 30); i++) sim.gossipRound([[from, bytes(`m${i}`)]])
  return { mean: sim.mean(), rounds: sim.roundStats, emptyAfterBootstrap: empty }
}

export const bigMultipleSender = (seed: number, o: ScenarioOptions = {}): ScenarioResult => {
  const sim = make(seed, o.peers ?? 100)
  const empty = sim.bootstrap().peersWithoutNeighbors.length
  for (let i = 0; i < (o.rounds ?? 30); i++) sim.gossipRound([[sim.randomPeer(), bytes(`m${i}`)]])
  return { mean: sim.mean(), rounds: sim.roundStats, emptyAfterBootstrap: empty }
}

export const bigBurst = (seed: number, o: ScenarioOptions = {}): ScenarioResult => {
  const sim = make(seed, o.peers ?? 100)
  const empty = sim.bootstrap().peersWithoutNeighbors.length
  for (let i = 0; i < (o.rounds ?? 5); i++) {
    sim.gossipRound(sim.network.peerIds().map((id) => [id, bytes(`${i}:0.${id}`)] as const))
  }
  return { mean: sim.mean(), rounds: sim.roundStats, emptyAfterBootstrap: empty }
}
