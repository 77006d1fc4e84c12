/**
 * `node scripts/run-bundled.mjs ENTRY.ts [args…]`: runs a TypeScript program as one JavaScript bundle built by
 * esbuild (what `pnpm demo` uses).
 *
 * Why: through tsx, a program that loads the workspace's packages and Effect spends most of a short run loading
 * hundreds of modules through tsx's loader hooks (about 2 s of CPU on two cores, more than the demo's own work).
 * One tree-shaken bundle loads in a fraction of that. The bundle is cached in `node_modules/.cache/barge-run/`
 * and rebuilt when any file it was built from changes (or the lockfile, or a package manifest).
 *
 * Stack traces point into the bundle; to debug a program, run it with `npx tsx ENTRY.ts` instead.
 */
import { build } from "esbuild"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"

const [entry, ...args] = process.argv.slice(2)
if (entry === undefined) {
  process.stderr.write("usage: node scripts/run-bundled.mjs ENTRY.ts [args…]\n")
  process.exit(2)
}

const root = path.resolve(import.meta.dirname, "..")
const cache = path.join(root, "node_modules", ".cache", "barge-run")
const name = path.relative(root, path.resolve(entry)).replace(/[^\w.-]/g, "_")
const bundle = path.join(cache, `${name}.mjs`)
const stampFile = path.join(cache, `${name}.json`)

/** What else decides how imports resolve: the lockfile, the manifests, this script. */
const extraInputs = () => [
  "pnpm-lock.yaml",
  "scripts/run-bundled.mjs",
  ...fs.readdirSync(path.join(root, "packages")).map((dir) => `packages/${dir}/package.json`)
]

/** Size and modification time of each file (relative to the root); a missing file reads as `null`. */
const fingerprint = (files) =>
  Object.fromEntries(files.map((file) => {
    try {
      const stat = fs.statSync(path.join(root, file))
      return [file, `${stat.size}:${stat.mtimeMs}`]
    } catch {
      return [file, null]
    }
  }))

const upToDate = () => {
  try {
    const stamp = JSON.parse(fs.readFileSync(stampFile, "utf8"))
    const now = fingerprint(Object.keys(stamp))
    return fs.existsSync(bundle) && Object.entries(stamp).every(([file, print]) => now[file] === print)
  } catch {
    return false
  }
}

if (!upToDate()) {
  fs.mkdirSync(cache, { recursive: true })
  // Written beside the final names and renamed, so concurrent runs never load half a bundle.
  const temporary = `${bundle}.${process.pid}.${crypto.randomUUID()}`
  const result = await build({
    absWorkingDir: root,
    entryPoints: [path.resolve(entry)],
    outfile: temporary,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    metafile: true,
    logLevel: "warning",
    // CommonJS dependencies (undici) call `require`, which an ES module does not have.
    banner: {
      js:
        "import { createRequire as __bargeRequire } from 'node:module'; const require = __bargeRequire(import.meta.url);"
    }
  })
  fs.renameSync(temporary, bundle)
  const stamp = fingerprint([...Object.keys(result.metafile.inputs), ...extraInputs()])
  fs.writeFileSync(`${stampFile}.${process.pid}`, JSON.stringify(stamp))
  fs.renameSync(`${stampFile}.${process.pid}`, stampFile)
}

process.argv = [process.argv[0], path.resolve(entry), ...args]
await import(pathToFileURL(bundle).href)
