/**
 * The package checks (`src/packaging.ts`) on packed packages made up here: a right one passes, and each way a
 * package has been (or could be) broken for an npm user is reported. `Consumer.test.ts` runs the same checks on
 * the real tarballs.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Packaging from "../src/packaging.js"

const manifest = {
  name: "@barge/example",
  version: "0.1.0",
  type: "module",
  engines: { node: ">=20" },
  main: "./dist/index.js",
  types: "./dist/index.d.ts",
  exports: {
    "./package.json": "./package.json",
    ".": { types: "./dist/index.d.ts", import: "./dist/index.js" },
    "./*": { types: "./dist/*.d.ts", import: "./dist/*.js" },
    "./internal/*": null
  },
  publishConfig: { access: "public" },
  bin: { example: "./bin/example.js" },
  dependencies: { "@barge/core": "^0.1.0" },
  peerDependencies: { effect: "^3.22.4", "@effect/platform": "^0.97.2" }
}

const files: Record<string, string> = {
  "README.md": "# @barge/example\n",
  "bin/example.js": `#!/usr/bin/env node\nimport "../dist/bin.js"\n`,
  "dist/bin.js": `import * as Effect from "effect/Effect";\nimport * as Thing from "./Thing.js";\n`,
  "dist/index.js": `export * as Thing from "./Thing.js";\n`,
  "dist/index.d.ts": `export * as Thing from "./Thing.js";\n`,
  "dist/Thing.js": `import * as Batch from "@barge/core/Batch";\nexport const marker = "[[not-a-module]]";\n`,
  "dist/Thing.d.ts": [
    `import type * as HttpClient from "@effect/platform/HttpClient";`,
    `/**`,
    ` * import { NodeHttpClient } from "@effect/platform-node"`,
    ` */`,
    `export declare const thing: import("@barge/core/Batch").Service;`
  ].join("\n"),
  "src/Thing.ts": `export const thing = 1\n`
}

const packed = (
  changes: { readonly manifest?: Record<string, unknown>; readonly files?: Record<string, string | undefined> } = {}
): Packaging.Packed => {
  const merged = { ...manifest, ...changes.manifest }
  const all = { ...files, ...changes.files, "package.json": JSON.stringify(merged) }
  return {
    manifest: merged,
    files: new Map(Object.entries(all).flatMap(([file, text]) => (text === undefined ? [] : [[file, text] as const])))
  }
}

/** Asserts that exactly one problem is found and that it says `expected`. */
const reports = (changes: Parameters<typeof packed>[0], expected: string) => {
  const found = Packaging.problems(packed(changes))
  assert.strictEqual(found.length, 1, found.join("\n"))
  assert.include(found[0], expected)
}

describe("package checks", () => {
  it("a package shaped like Barge's passes (an import shown in a doc comment is not a dependency)", () => {
    assert.deepStrictEqual(Packaging.problems(packed()), [])
  })

  it("a bin pointing at TypeScript, as the first tarballs had it", () => {
    reports(
      { manifest: { bin: { example: "./src/bin.ts" } }, files: { "src/bin.ts": "#!/usr/bin/env -S npx tsx\n" } },
      "not JavaScript"
    )
  })

  it("a bin whose first line is not the node shebang", () => {
    reports(
      { files: { "bin/example.js": `#!/usr/bin/env -S npx tsx\nimport "../dist/bin.js"\n` } },
      `the first line must be "#!/usr/bin/env node"`
    )
  })

  it("a bin that loads compiled code missing from the tarball (packed without a build)", () => {
    reports({ files: { "dist/bin.js": undefined } }, "loads ../dist/bin.js: not in the tarball")
  })

  it("a bin that loads no compiled module", () => {
    reports({ files: { "bin/example.js": `#!/usr/bin/env node\nconsole.log("hi")\n` } }, "loads no compiled module")
  })

  it("exports that point at TypeScript sources (the workspace's exports, published as they are)", () => {
    reports(
      {
        manifest: { exports: { ".": { types: "./dist/index.d.ts", import: "./src/index.ts" } } },
        files: { "src/index.ts": "" }
      },
      "TypeScript source"
    )
  })

  it("an export whose files were not built", () => {
    const found = Packaging.problems(packed({ files: { "dist/index.js": undefined } }))
    assert.isTrue(
      found.some((p) => p.includes(`exports["."].import → ./dist/index.js: no such file`)),
      found.join("\n")
    )
  })

  it("effect as a dependency instead of a peer", () => {
    const found = Packaging.problems(
      packed({ manifest: { dependencies: { ...manifest.dependencies, effect: "^3.22.4" } } })
    )
    assert.isTrue(found.some((p) => p.includes("effect is a dependency; it must be a peer")), found.join("\n"))
  })

  it("an Effect peer stated loosely or on another line", () => {
    for (const range of ["*", ">=3", "^4.0.0", "^3.0.0"]) {
      reports(
        { manifest: { peerDependencies: { ...manifest.peerDependencies, effect: range } } },
        "state the Effect 3 line: ^3.22"
      )
    }
  })

  it("an Effect package the code imports but the peers do not name", () => {
    reports(
      { files: { "dist/Server.js": `import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer";\n` } },
      "imports @effect/platform-node but peerDependencies does not name it"
    )
  })

  it("any other import no dependency field names", () => {
    reports({ files: { "dist/Yaml.js": `export { parse } from "yaml";\n` } }, "imports yaml but no dependency field")
  })

  it("a workspace: range left for npm", () => {
    reports({ manifest: { dependencies: { "@barge/core": "workspace:^" } } }, "an npm user cannot resolve it")
  })

  it("files that do not belong in the tarball", () => {
    reports({ files: { "tsconfig.build.json": "{}" } }, "tsconfig.build.json is in the tarball")
  })

  it("no README", () => {
    reports({ files: { "README.md": undefined } }, "README.md is missing")
  })
})
