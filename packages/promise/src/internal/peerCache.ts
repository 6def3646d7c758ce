/**
 * The facade's peer cache: `@dtt/core`'s `PeerCache` over a directory (one small file per topic, named by a hash
 * that does not reveal the topic). The directory is created if missing; a path that is not, or cannot become,
 * a writable directory fails node creation with `PeerCacheUnavailable` instead of failing silently on each write.
 */
import { PeerCache } from "@dtt/core"
// Deep imports: the packages' barrels load every module (HTTP, sockets, workers), about 75 MB of RSS for nothing.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeKeyValueStore from "@effect/platform-node/NodeKeyValueStore"
import * as FileSystem from "@effect/platform/FileSystem"
import { Data, Effect, Layer } from "effect"

export class PeerCacheUnavailable extends Data.TaggedError("PeerCacheUnavailable")<{
  readonly path: string
  readonly message: string
}> {}

const usableDirectory = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(path, { recursive: true })
    const info = yield* fs.stat(path)
    if (info.type !== "Directory") {
      return yield* new PeerCacheUnavailable({ path, message: `peer cache path ${path} is not a directory` })
    }
    yield* fs.access(path, { writable: true, readable: true })
  }).pipe(
    Effect.catchTag(
      "SystemError",
      "BadArgument",
      (error) => new PeerCacheUnavailable({ path, message: `peer cache path ${path} is unusable: ${error.message}` })
    ),
    Effect.provide(NodeFileSystem.layer)
  )

export const layer = (path: string): Layer.Layer<PeerCache.PeerCache, PeerCacheUnavailable> =>
  Layer.unwrapEffect(
    Effect.as(
      usableDirectory(path),
      PeerCache.layer().pipe(
        Layer.provide(NodeKeyValueStore.layerFileSystem(path)),
        Layer.mapError((error) => new PeerCacheUnavailable({ path, message: error.message }))
      )
    )
  )
