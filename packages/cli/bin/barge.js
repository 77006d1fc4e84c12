#!/usr/bin/env node
// Runs this package's executable: the compiled ../dist/bin.js, as published. In a checkout of the Barge repository
// (where ../tsconfig.build.json exists, and the workspace's imports resolve to TypeScript sources) it runs
// ../src/bin.ts through tsx instead, so no build is needed there.
import { existsSync } from "node:fs"

if (existsSync(new URL("../tsconfig.build.json", import.meta.url))) {
  const { register } = await import("tsx/esm/api")
  register()
  await import("../src/bin.ts")
} else {
  await import("../dist/bin.js")
}
