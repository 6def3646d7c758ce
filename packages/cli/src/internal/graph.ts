/** Connected components of an undirected neighbour graph given as adjacency lists (edges taken both ways). */
export const componentSizes = (graph: ReadonlyMap<string, ReadonlyArray<string>>): ReadonlyArray<number> => {
  const adjacent = new Map<string, Set<string>>()
  for (const id of graph.keys()) adjacent.set(id, new Set())
  for (const [id, peers] of graph) {
    for (const peer of peers) {
      // Peers outside the graph (not ours) do not join components.
      if (!adjacent.has(peer)) continue
      adjacent.get(id)!.add(peer)
      adjacent.get(peer)!.add(id)
    }
  }
  const seen = new Set<string>()
  const sizes: Array<number> = []
  for (const start of adjacent.keys()) {
    if (seen.has(start)) continue
    seen.add(start)
    const stack = [start]
    let size = 0
    while (stack.length > 0) {
      size++
      for (const next of adjacent.get(stack.pop()!)!) {
        if (!seen.has(next)) {
          seen.add(next)
          stack.push(next)
        }
      }
    }
    sizes.push(size)
  }
  return sizes.sort((a, b) => b - a)
}
