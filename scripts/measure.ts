/** Small helpers the measurement scripts share. */
import { createSocket } from "node:dgram"

/** The nearest-rank `p`th percentile of ascending `sorted`; null when it is empty. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

/** A loopback UDP port nobody listens on any more: a DHT bootstrap that never answers. */
export const closedPort = async (): Promise<number> => {
  const socket = createSocket("udp4")
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve))
  const port = socket.address().port
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}
