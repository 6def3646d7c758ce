/** `@dtt/cli`: the `dtt` command and the programs behind its subcommands. */
export * as Chat from "./Chat.js"
export * as Cli from "./Cli.js"
export * as Demo from "./Demo.js"
export * as PeerNode from "./PeerNode.js"
export * as TestbedServer from "./TestbedServer.js"
