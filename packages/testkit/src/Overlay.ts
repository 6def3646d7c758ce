/**
 * Reachability in a gossip overlay given as active views (node -> the neighbours it lists). Edges are directed:
 * HyParView views are not always symmetric, and a broadcast travels only along "b is in a's view" edges, so a
 * swarm counts as connected only when every node reaches every other one that way.
 */

/** Every node reachable from `start` along the listed edges, `start` included. */
export const reachable = <Id>(views: ReadonlyMap<Id, Iterable<Id>>, start: Id): Set<Id> => {
  const seen = new Set([start])
  const stack = [start]
  while (stack.length > 0) {
    for (const next of views.get(stack.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next)
        stack.push(next)
      }
    }
  }
  return seen
}

/**
 * True when every node lists at least one neighbour, lists only nodes of `views`, and reaches every other node:
 * what a test waits for before it expects a broadcast to reach everyone.
 */
export const connected = <Id>(views: ReadonlyMap<Id, ReadonlyArray<Id>>): boolean => {
  for (const neighbours of views.values()) {
    if (neighbours.length === 0 || neighbours.some((n) => !views.has(n))) return false
  }
  for (const start of views.keys()) if (reachable(views, start).size !== views.size) return false
  return true
}
