/**
 * What a benchmark hands the runner: tables of figures, the goals it checks (met or missed, by how much), and notes
 * (where the time goes when a goal is missed).
 */

/** One table: a title, column names and rows of cells. */
export interface Table {
  readonly title: string
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>
}

/** A goal from issue 8 and what this run measured against it. */
export interface Goal {
  readonly name: string
  readonly target: string
  readonly actual: string
  readonly met: boolean
}

/** A benchmark's whole outcome. */
export interface Report {
  readonly tables: ReadonlyArray<Table>
  readonly goals: ReadonlyArray<Goal>
  readonly notes: ReadonlyArray<string>
}

/** A registered benchmark. */
export interface Bench {
  readonly name: string
  readonly run: (options: { readonly smoke: boolean }) => Promise<Report>
}

/** Formats a number with thousands separators and at most `digits` decimals. */
export const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : String(value)

/** Mebibytes with one decimal. */
export const mib = (bytes: number): string => `${fmt(bytes / 2 ** 20, 1)} MiB`

/** Renders a table as Markdown. */
export const markdown = (table: Table): string =>
  [
    `### ${table.title}`,
    "",
    `| ${table.columns.join(" | ")} |`,
    `|${table.columns.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...table.rows.map((row) => `| ${row.join(" | ")} |`)
  ].join("\n")

/** The median of some numbers (0 for none). */
export const median = (values: ReadonlyArray<number>): number => quantile(values, 0.5)

/** The `q` quantile (nearest rank) of some numbers (0 for none). */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
