import type { ViteUserConfig } from "vitest/config"

/** Settings every package's vitest project shares. */
const shared: ViteUserConfig = {
  test: {
    include: ["test/**/*.test.ts"],
    fakeTimers: { toFake: undefined },
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
}

export default shared
