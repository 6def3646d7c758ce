import { Layer } from "effect"
import * as Bootstrap from "../Bootstrap.js"
import * as BubbleMerge from "../BubbleMerge.js"
import * as MessageOverlapMerge from "../MessageOverlapMerge.js"
import * as Publisher from "../Publisher.js"
import type { Actor } from "../TopicContext.js"

/** What `Topic.join` runs after the join unless `JoinOptions.actors` says otherwise. */
export const defaultActors: Actor = Layer.mergeAll(
  Publisher.layer,
  Bootstrap.rediscoverLayer,
  BubbleMerge.layer,
  MessageOverlapMerge.layer
)
