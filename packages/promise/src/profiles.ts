/**
 * Named bootstrap configurations for `createNode({ config })` (see `@dtt/core`'s `ConfigProfiles`):
 * `configProfiles.startTogether` for apps that start their nodes together (a node alone looks again every
 * 100 ms instead of 1.5 s, at about 9 DHT gets a second per slot kind until it has a neighbour).
 */
import { ConfigProfiles } from "@dtt/core"
import type { ConfigInput } from "./Options.js"

export const configProfiles: { readonly rust: ConfigInput; readonly startTogether: ConfigInput } =
  ConfigProfiles.profiles
