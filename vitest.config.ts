import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

/**
 * Options for the whole run (the projects are listed in `vitest.workspace.ts`).
 *
 * Vitest's default is one worker fewer than the cores: one worker on CI's two. Much of this suite waits on child
 * processes and loopback servers (emulators, spawned CLIs, PostgreSQL), so a worker per core keeps both busy — 4.8
 * instead of 6.8 minutes on two idle cores. Tests never depend on speed, so they pass either way.
 */
export default defineConfig({
  test: {
    maxWorkers: Math.max(2, availableParallelism()),
    minWorkers: 1
  }
})
