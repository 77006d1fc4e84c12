import { Credential } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { ConfigError, ConfigProvider, Effect, Either, Redacted } from "effect"

const read = (value: string | undefined) =>
  Credential.redacted("MOONSHOT_API_KEY").pipe(
    Effect.withConfigProvider(
      ConfigProvider.fromMap(new Map(value === undefined ? [] : [["MOONSHOT_API_KEY", value]]))
    ),
    Effect.either
  )

describe("Credential.redacted", () => {
  it.effect("reads a key as it is, redacted", () =>
    Effect.gen(function*() {
      const key = yield* read("sk-abc123")
      assert.isTrue(Either.isRight(key))
      if (Either.isRight(key)) {
        assert.strictEqual(Redacted.value(key.right), "sk-abc123")
        assert.notInclude(String(key.right), "sk-abc123")
      }
    }))

  it.effect("a key with a trailing newline, a space or a tab is invalid data naming the variable, never the value", () =>
    Effect.gen(function*() {
      const cases = {
        "sk-abc123\n": "MOONSHOT_API_KEY ends with a line break (pasted with its newline?); remove it",
        "sk-abc123\r\n": "MOONSHOT_API_KEY ends with a line break (pasted with its newline?); remove it",
        " sk-abc123": "MOONSHOT_API_KEY has leading or trailing whitespace; remove it",
        "sk-abc 123": "MOONSHOT_API_KEY contains whitespace, which no key does; check that it was copied whole",
        "sk-abc\u0000123": "MOONSHOT_API_KEY contains a control character; check that it was copied whole"
      }
      for (const [value, message] of Object.entries(cases)) {
        const result = yield* read(value)
        assert.isTrue(Either.isLeft(result), JSON.stringify(value))
        if (Either.isLeft(result)) {
          assert.isTrue(ConfigError.isInvalidData(result.left))
          assert.strictEqual((result.left as ConfigError.InvalidData).message, message)
          assert.notInclude(String(result.left), "abc")
        }
      }
    }))

  it.effect("unset, empty or blank is missing data, as Config.nonEmptyString has it", () =>
    Effect.gen(function*() {
      for (const value of [undefined, "", "  \n"]) {
        const result = yield* read(value)
        assert.isTrue(Either.isLeft(result) && ConfigError.isMissingData(result.left), JSON.stringify(value))
      }
      const blank = yield* read(" \t")
      assert.include(String(Either.isLeft(blank) && blank.left), "MOONSHOT_API_KEY holds only whitespace")
    }))
})
