/** The comparison's markdown table and its SVG plot (hand-written SVG: no plotting dependency). */
import type { TimingSummary } from "./stats.js"

export interface ScenarioResult {
  readonly id: string
  readonly title: string
  readonly ours: TimingSummary
  readonly hyperswarm: TimingSummary
  readonly ratioP50: number | null
  readonly ratioP95: number | null
}

export interface MemorySide {
  readonly trials: number
  readonly bareMB: number | null
  readonly importedMB: number | null
  readonly oneNodeMB: number | null
  readonly perFurtherNodeMB: number | null
}

const ms = (x: number | null) => (x === null ? "—" : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`)
const pair = (s: TimingSummary, timeoutMs: number) =>
  s.ok === 0
    ? `**0/${s.trials} within ${timeoutMs / 1000} s**`
    : `${ms(s.p50)} / ${s.p95 === null ? `> ${timeoutMs / 1000} s` : ms(s.p95)}, ${s.ok}/${s.trials}`
const times = (r: number | null) => (r === null ? "—" : `${r}×`)
const mbText = (x: number | null) => (x === null ? "—" : `${x} MB`)

export const markdown = (
  scenarios: ReadonlyArray<ScenarioResult>,
  memory: { readonly ours: MemorySide; readonly hyperswarm: MemorySide; readonly nodes: number },
  notes: ReadonlyArray<string>,
  timeoutOf: (id: string) => number
) =>
  [
    "| scenario | ours p50 / p95, ok | Hyperswarm p50 / p95, ok | ratio p50 (ours/theirs) | ratio p95 |",
    "|---|---|---|---|---|",
    ...scenarios.map(
      (s) =>
        `| ${s.title} | ${pair(s.ours, timeoutOf(s.id))} | ${pair(s.hyperswarm, timeoutOf(s.id))} | ${
          times(s.ratioP50)
        } | ${times(s.ratioP95)} |`
    ),
    "",
    `| memory (RSS, compiled JS, median of trials) | ours | Hyperswarm |`,
    "|---|---|---|",
    `| bare Node | ${mbText(memory.ours.bareMB)} | ${mbText(memory.hyperswarm.bareMB)} |`,
    `| after importing the library | ${mbText(memory.ours.importedMB)} | ${mbText(memory.hyperswarm.importedMB)} |`,
    `| one idle node joined to a topic | ${mbText(memory.ours.oneNodeMB)} | ${mbText(memory.hyperswarm.oneNodeMB)} |`,
    `| each further idle node (least-squares slope over ${memory.nodes} nodes) | ${
      mbText(memory.ours.perFurtherNodeMB)
    } | ${mbText(memory.hyperswarm.perFurtherNodeMB)} |`,
    "",
    ...notes.map((n) => `- ${n}`),
    ""
  ].join("\n")

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/**
 * One row per scenario and system: every trial as a dot on a log time axis, the p50 as a bar, trials that found
 * nobody in time as crosses at the right edge.
 */
export const svg = (scenarios: ReadonlyArray<ScenarioResult>, title: string) => {
  const colours = { ours: "#1f77b4", hyperswarm: "#d62728" } as const
  const left = 110
  const plotWidth = 680
  const width = left + plotWidth + 50
  const headerHeight = 18
  const rowHeight = 22
  const groupHeight = headerHeight + 2 * rowHeight + 8
  const top = 56
  const bottom = top + scenarios.length * groupHeight
  const height = bottom + 46
  const minMs = 10
  const maxMs = 30_000
  const x = (t: number) =>
    left + (Math.log10(Math.min(Math.max(t, minMs), maxMs) / minMs) / Math.log10(maxMs / minMs)) * plotWidth
  const ticks = [10, 30, 100, 300, 1000, 3000, 10_000, 30_000]
  const parts: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="38" fill="#555">each dot one trial (log scale); black bar: p50; × n: n trials found nobody within the timeout</text>`
  ]
  for (const t of ticks) {
    const tx = x(t).toFixed(1)
    parts.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${bottom}" stroke="#e2e2e2"/>`)
    parts.push(
      `<text x="${tx}" y="${bottom + 16}" text-anchor="middle">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`
    )
  }
  scenarios.forEach((scenario, g) => {
    const groupTop = top + g * groupHeight
    parts.push(`<line x1="10" y1="${groupTop}" x2="${width - 10}" y2="${groupTop}" stroke="#999"/>`)
    parts.push(`<text x="10" y="${groupTop + 14}" font-weight="bold">${escape(scenario.title)}</text>`)
    const rows = [
      { system: "ours" as const, label: "ours", summary: scenario.ours },
      { system: "hyperswarm" as const, label: "Hyperswarm", summary: scenario.hyperswarm }
    ]
    rows.forEach((row, r) => {
      const cy = groupTop + headerHeight + r * rowHeight + rowHeight / 2
      parts.push(
        `<text x="${left - 8}" y="${cy + 4}" text-anchor="end" fill="${colours[row.system]}">${row.label}</text>`
      )
      row.summary.samples.forEach((t, k) => {
        // A small vertical spread so that equal times stay visible.
        const jitter = ((k * 7) % 9) - 4
        parts.push(
          `<circle cx="${x(t).toFixed(1)}" cy="${(cy + jitter).toFixed(1)}" r="3" fill="${
            colours[row.system]
          }" fill-opacity="0.5"/>`
        )
      })
      if (row.summary.p50 !== null) {
        const px = x(row.summary.p50).toFixed(1)
        parts.push(`<line x1="${px}" y1="${cy - 8}" x2="${px}" y2="${cy + 8}" stroke="black" stroke-width="2"/>`)
      }
      const failures = row.summary.trials - row.summary.ok
      if (failures > 0) {
        parts.push(`<text x="${left + plotWidth + 8}" y="${cy + 4}" fill="${colours[row.system]}">× ${failures}</text>`)
      }
    })
  })
  parts.push(
    `<text x="${left + plotWidth / 2}" y="${
      height - 10
    }" text-anchor="middle">time to first neighbour / connection; 20 nodes: to one component (log scale)</text>`
  )
  parts.push("</svg>", "")
  return parts.join("\n")
}
