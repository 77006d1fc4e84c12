/**
 * `pnpm docs`: API documentation for every package, built by TypeDoc from the doc comments into `docs/api/`.
 *
 * Fails (exit 1) when an exported declaration has no doc comment, or a `{@link}` does not resolve, so "every
 * export documented" is checked rather than hoped for. `--check` validates without writing HTML.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Application, LogLevel } from "typedoc"

const root = path.resolve(import.meta.dirname, "..")
const packages = fs.readdirSync(path.join(root, "packages"))
  .filter((name) => fs.existsSync(path.join(root, "packages", name, "src", "index.ts")))
  .sort()
const packageNames = packages.map((name) =>
  (JSON.parse(fs.readFileSync(path.join(root, "packages", name, "package.json"), "utf8")) as { name: string }).name
)
const checkOnly = process.argv.includes("--check")

const app = await Application.bootstrap({
  name: "Barge",
  entryPoints: packages.map((name) => path.join(root, "packages", name, "src", "index.ts")),
  entryPointStrategy: "resolve",
  tsconfig: path.join(root, "tsconfig.json"),
  // Type errors are `pnpm check`'s job; here they would only hide the documentation report.
  skipErrorChecking: true,
  out: path.join(root, "docs", "api"),
  readme: path.join(root, "README.md"),
  excludePrivate: true,
  excludeInternal: true,
  excludeExternals: true,
  // `@since` and `@category` are Effect-style tags our comments carry.
  blockTags: ["@since", "@category", "@example", "@param", "@returns", "@see", "@deprecated", "@throws"],
  validation: { notExported: false, invalidLink: true, notDocumented: true, rewrittenLink: true },
  // What must carry a comment: the declarations a user imports, not every field of every shape.
  // (Each package's modules are documented where `index.ts` re-exports them as namespaces.)
  requiredToBeDocumented: ["Namespace", "Variable", "Function", "Class", "Interface", "TypeAlias"],
  // Without this TypeDoc only checks the package of the first entry point.
  packagesRequiringDocumentation: packageNames,
  disableSources: true,
  highlightLanguages: ["bash", "sh", "json", "jsonc", "typescript", "ts", "javascript", "tsx", "yaml", "mermaid"],
  treatValidationWarningsAsErrors: true,
  treatWarningsAsErrors: false,
  logLevel: LogLevel.Warn
})

const project = await app.convert()
if (project === undefined) {
  console.error("docs: TypeDoc could not convert the project (see the errors above)")
  process.exit(1)
}
// Count only what validation finds.
app.logger.resetWarnings()
app.validate(project)
const undocumented = app.logger.hasErrors() || app.logger.hasWarnings()

// The HTML is written even when validation fails, so the reference is there to read while the gaps get fixed.
if (!checkOnly) {
  app.logger.resetErrors()
  await app.generateDocs(project, path.join(root, "docs", "api"))
  if (app.logger.hasErrors()) process.exit(1)
  console.log(`docs: wrote ${path.relative(process.cwd(), path.join(root, "docs", "api", "index.html"))}`)
}
if (undocumented) {
  console.error("docs: fix the warnings above (an export or member without a doc comment, or a broken {@link})")
  process.exit(1)
}
console.log(`docs: ${packages.length} packages, every export documented`)
