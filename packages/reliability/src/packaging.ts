/**
 * What a published Barge package looks like to an npm user, checked on what `pnpm pack` actually produces (pnpm
 * applies `publishConfig` and rewrites `workspace:` ranges while packing, so the workspace's package.json is not
 * what a user gets). Every public package (`"private"` not set) must pass; a new one passes by copying the shape of
 * `packages/core/package.json` (and, for an executable, `packages/cli`'s `bin/`).
 *
 * ```sh
 * pnpm run check-packages    # build, pack every public package, check each tarball; exit 1 on any problem
 * ```
 *
 * `test/Consumer.test.ts` runs the same checks on the tarballs it installs, and `test/Packaging.test.ts` shows each
 * rule failing on a broken manifest.
 *
 * @since 0.1.0
 */
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"

/**
 * A packed package: its manifest as packed, and the text of every file in the tarball by path (`dist/index.js`).
 *
 * @since 0.1.0
 */
export interface Packed {
  readonly manifest: Readonly<Record<string, unknown>>
  readonly files: ReadonlyMap<string, string>
}

/**
 * The Effect 3 packages every Barge package takes as peers (never as dependencies: a second copy of `effect`
 * breaks its services and schemas), each with the range it must be stated with.
 *
 * @since 0.1.0
 */
export const effectPeers: Readonly<Record<string, { readonly range: string; readonly pattern: RegExp }>> = {
  "effect": { range: "^3.22", pattern: /^\^3\.22\.\d+$/ },
  "@effect/platform": { range: "^0.97", pattern: /^\^0\.97\.\d+$/ },
  "@effect/platform-node": { range: "^0.108", pattern: /^\^0\.108\.\d+$/ }
}

/** What a tarball may contain: the manifest, docs, compiled code, its sources (for source maps) and executables. */
const allowedFile = /^(package\.json|README\.md|LICENSE(\.md)?|dist\/.+|src\/.+|bin\/.+)$/

const dependencyFields = ["dependencies", "peerDependencies", "optionalDependencies"] as const

const record = (value: unknown): Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {}

/** `./dist/index.js` → `dist/index.js`. */
const inPackage = (target: string) => path.posix.normalize(target).replace(/^\.\//, "")

/** Whether some file matches an export target with one `*` (`./dist/*.js`). */
const matchesAny = (files: ReadonlyMap<string, string>, target: string): boolean => {
  const [prefix, suffix] = inPackage(target).split("*") as [string, string]
  return [...files.keys()].some((file) => file.startsWith(prefix) && file.endsWith(suffix))
}

/** Every string target under an `exports` value, with the condition path that leads to it (`types`, `import`). */
const exportTargets = (value: unknown, conditions: ReadonlyArray<string> = []): Array<{
  readonly target: string
  readonly conditions: ReadonlyArray<string>
}> => {
  if (typeof value === "string") return [{ target: value, conditions }]
  if (Array.isArray(value)) return value.flatMap((item) => exportTargets(item, conditions))
  return Object.entries(record(value)).flatMap(([key, item]) => exportTargets(item, [...conditions, key]))
}

const checkExports = (packed: Packed): Array<string> => {
  const problems: Array<string> = []
  const exports = record(packed.manifest.exports)
  const root = record(exports["."])
  if (typeof root.types !== "string" || (typeof root.import !== "string" && typeof root.default !== "string")) {
    problems.push(`exports["."] must be { types, import } (got ${JSON.stringify(exports["."])})`)
  }
  for (const [subpath, value] of Object.entries(exports)) {
    for (const { conditions, target } of exportTargets(value)) {
      const where = `exports[${JSON.stringify(subpath)}]${conditions.map((c) => `.${c}`).join("")}`
      const declaration = target.endsWith(".d.ts")
      if (conditions.includes("types") !== declaration) {
        problems.push(`${where} → ${target}: types conditions name .d.ts files, and only they do`)
      } else if (!declaration && /\.[cm]?tsx?$/.test(target)) {
        problems.push(`${where} → ${target}: TypeScript source; Node cannot load it (point at dist/*.js)`)
      }
      const present = target.includes("*") ? matchesAny(packed.files, target) : packed.files.has(inPackage(target))
      if (!present && subpath !== "./package.json") {
        problems.push(`${where} → ${target}: no such file in the tarball (was the package built?)`)
      }
    }
  }
  for (const field of ["main", "types"] as const) {
    const target = packed.manifest[field]
    if (typeof target !== "string") problems.push(`"${field}" is missing (tools that ignore "exports" read it)`)
    else if (!packed.files.has(inPackage(target))) problems.push(`"${field}" → ${target}: not in the tarball`)
  }
  return problems
}

/** Relative module specifiers a JavaScript file names (`import "../dist/bin.js"`, `await import("./x.js")`). */
const relativeSpecifiers = (text: string): Array<string> =>
  [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((match) => match[1]!)

const checkBin = (packed: Packed): Array<string> => {
  const problems: Array<string> = []
  const bin = packed.manifest.bin
  const entries = typeof bin === "string" ? [[String(packed.manifest.name), bin] as const] : Object.entries(record(bin))
  for (const [name, target] of entries) {
    if (typeof target !== "string") {
      problems.push(`bin "${name}" is not a path`)
      continue
    }
    const file = inPackage(target)
    const text = packed.files.get(file)
    if (!/\.[cm]?js$/.test(file)) {
      problems.push(`bin "${name}" → ${target}: not JavaScript; npm runs it with node, which cannot load it`)
    } else if (text === undefined) {
      problems.push(`bin "${name}" → ${target}: not in the tarball`)
    } else {
      if (text.split("\n", 1)[0] !== "#!/usr/bin/env node") {
        problems.push(`bin "${name}" → ${target}: the first line must be "#!/usr/bin/env node"`)
      }
      const loads = relativeSpecifiers(text).filter((specifier) => /\.[cm]?js$/.test(specifier))
      if (loads.length === 0) problems.push(`bin "${name}" → ${target}: loads no compiled module (../dist/*.js)`)
      for (const specifier of loads) {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier))
        if (!packed.files.has(resolved)) {
          problems.push(`bin "${name}" → ${target} loads ${specifier}: not in the tarball (was the package built?)`)
        }
      }
    }
  }
  return problems
}

/** The package a bare specifier names: `effect/Effect` → `effect`, `@effect/platform/Http` → `@effect/platform`. */
const packageOf = (specifier: string): string | undefined => {
  if (specifier.startsWith(".") || specifier.startsWith("node:") || specifier.startsWith("/")) return undefined
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]
}

/**
 * The packages the compiled code and its declarations import. Only statement lines and `import("…")` types are
 * read, so an import shown inside a doc comment's example does not count.
 */
const importedPackages = (packed: Packed): Set<string> => {
  const imported = new Set<string>()
  for (const [file, text] of packed.files) {
    if (!file.startsWith("dist/") || !/\.(js|d\.ts)$/.test(file)) continue
    for (const line of text.split("\n")) {
      const trimmed = line.trimStart()
      if (trimmed.startsWith("*") || trimmed.startsWith("//")) continue
      const statement = /^(?:import|export)\b[^"'`]*?\bfrom\s*["']([^"']+)["']/.exec(trimmed) ??
        /^import\s*["']([^"']+)["']/.exec(trimmed)
      const specifiers = [
        ...(statement !== null ? [statement[1]!] : []),
        ...[...trimmed.matchAll(/\bimport\(["']([^"']+)["']\)/g)].map((match) => match[1]!)
      ]
      for (const specifier of specifiers) {
        const name = packageOf(specifier)
        if (name !== undefined) imported.add(name)
      }
    }
  }
  return imported
}

const checkDependencies = (packed: Packed): Array<string> => {
  const problems: Array<string> = []
  const declared = new Map<string, { readonly field: string; readonly range: string }>()
  for (const field of dependencyFields) {
    for (const [name, range] of Object.entries(record(packed.manifest[field]))) {
      declared.set(name, { field, range: String(range) })
      if (/^(workspace|file|link|portal):/.test(String(range))) {
        problems.push(`${field}.${name} is "${range}": an npm user cannot resolve it`)
      }
    }
  }
  const peers = record(packed.manifest.peerDependencies)
  const dependencies = record(packed.manifest.dependencies)
  for (const [name, { pattern, range }] of Object.entries(effectPeers)) {
    if (name in dependencies) {
      problems.push(`${name} is a dependency; it must be a peer (${range}) so the user's single copy is used`)
    }
    if (name in peers && !pattern.test(String(peers[name]))) {
      problems.push(`peerDependencies.${name} is "${peers[name]}"; state the Effect 3 line: ${range}.x`)
    }
  }
  for (const name of importedPackages(packed)) {
    if (name === packed.manifest.name) continue
    if (name in effectPeers && !(name in peers)) {
      problems.push(`the code imports ${name} but peerDependencies does not name it (${effectPeers[name]!.range})`)
    } else if (!declared.has(name)) {
      problems.push(`the code imports ${name} but no dependency field names it`)
    }
  }
  return problems
}

/**
 * Everything wrong with a packed package, one sentence each; empty when it is right.
 *
 * @since 0.1.0
 */
export const problems = (packed: Packed): Array<string> => {
  const found: Array<string> = []
  if (packed.manifest.type !== "module") found.push(`"type" must be "module"`)
  if (record(packed.manifest.publishConfig).access !== "public") {
    found.push(`publishConfig.access must be "public" (scoped packages are private by default)`)
  }
  if (!String(record(packed.manifest.engines).node ?? "").startsWith(">=20")) {
    found.push(`engines.node must state the Node versions supported (">=20")`)
  }
  if (!packed.files.has("README.md")) found.push(`README.md is missing: the registry shows it as the package's page`)
  for (const file of packed.files.keys()) {
    if (!allowedFile.test(file)) found.push(`${file} is in the tarball; only dist/, src/, bin/ and docs belong there`)
  }
  return [...found, ...checkExports(packed), ...checkBin(packed), ...checkDependencies(packed)]
}

/**
 * @since 0.1.0
 */
export interface Workspace {
  /** The repository root. */
  readonly root: string
  /** Each public package: its name and directory. */
  readonly packages: ReadonlyArray<{ readonly name: string; readonly dir: string }>
}

/**
 * The public packages under `root/packages`.
 *
 * @since 0.1.0
 */
export const workspace = (root: string): Workspace => ({
  root,
  packages: fs.readdirSync(path.join(root, "packages")).sort().flatMap((entry) => {
    const file = path.join(root, "packages", entry, "package.json")
    if (!fs.existsSync(file)) return []
    const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as { name: string; private?: boolean }
    return manifest.private === true ? [] : [{ name: manifest.name, dir: path.dirname(file) }]
  })
})

/**
 * Runs a command to its end without blocking the event loop; fails with everything it printed unless it exits 0.
 *
 * @since 0.1.0
 */
export const exec = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv | undefined }
): Promise<{ readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    const settings = { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }
    execFile(command, args, settings, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr })
      else reject(new Error(`${command} ${args.join(" ")} failed (${error.message})\n${stdout}\n${stderr}`))
    })
  })

/**
 * Builds the packages (`tsc -b`, incremental) and packs each public one into `destination`; returns the tarballs
 * by package name.
 *
 * @since 0.1.0
 */
export const buildAndPack = async (ws: Workspace, destination: string): Promise<Map<string, string>> => {
  const inRoot = { cwd: ws.root }
  // `tsc -b` trusts its build info (kept outside dist/): with a dist/ deleted by hand it would build nothing.
  const force = ws.packages.some((p) => !fs.existsSync(path.join(p.dir, "dist", "index.js"))) ? ["--force"] : []
  const tsc = path.join(ws.root, "node_modules/typescript/bin/tsc")
  await exec(process.execPath, [tsc, "-b", "tsconfig.build.json", ...force], inRoot)
  fs.mkdirSync(destination, { recursive: true })
  // One pnpm for all: `npx -y pnpm@10` costs a second or two to start.
  const filters = ws.packages.flatMap((p) => ["--filter", p.name])
  await exec("npx", ["-y", "pnpm@10", ...filters, "pack", "--pack-destination", destination], inRoot)
  return new Map(ws.packages.map((p) => {
    const version = (JSON.parse(fs.readFileSync(path.join(p.dir, "package.json"), "utf8")) as { version: string })
      .version
    const tarball = path.join(destination, `${p.name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`)
    if (!fs.existsSync(tarball)) throw new Error(`pnpm pack left no ${tarball} for ${p.name}`)
    return [p.name, tarball]
  }))
}

/**
 * Reads a tarball's manifest and files (extracted with the system `tar`).
 *
 * @since 0.1.0
 */
export const readTarball = (tarball: string): Packed => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "barge-tarball-"))
  try {
    execFileSync("tar", ["-xzf", tarball, "-C", dir])
    const root = path.join(dir, "package")
    const files = new Map<string, string>()
    const walk = (relative: string): void => {
      for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
        const file = relative === "" ? entry.name : `${relative}/${entry.name}`
        if (entry.isDirectory()) walk(file)
        else files.set(file, fs.readFileSync(path.join(root, file), "utf8"))
      }
    }
    walk("")
    return { manifest: JSON.parse(files.get("package.json") ?? "{}") as Record<string, unknown>, files }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const main = async () => {
  const ws = workspace(path.resolve(import.meta.dirname, "../../.."))
  const destination = fs.mkdtempSync(path.join(os.tmpdir(), "barge-pack-"))
  try {
    let failed = 0
    for (const [name, tarball] of await buildAndPack(ws, destination)) {
      const found = problems(readTarball(tarball))
      failed += found.length
      process.stdout.write(
        found.length === 0 ? `${name}: ok\n` : `${name}:\n${found.map((p) => `  - ${p}\n`).join("")}`
      )
    }
    process.exitCode = failed === 0 ? 0 : 1
  } finally {
    fs.rmSync(destination, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
