/**
 * Credentials read from configuration (API keys, access keys, secret keys), checked before any request is made.
 *
 * A key pasted with its trailing newline, or with a space, is never valid: sent as is it fails inside the HTTP
 * client (`UND_ERR_INVALID_ARG` for a header) or as a signature mismatch, and every retry fails the same way. Read
 * through {@link redacted}, it is a configuration error naming the variable instead; the value itself never
 * appears in the message.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"

/**
 * What is wrong with a credential's text, in words that never repeat the text; `undefined` when nothing is.
 *
 * @example
 * ```ts
 * import { Credential } from "@barge/core"
 *
 * Credential.problem("sk-abc\n") // "ends with a line break (pasted with its newline?); remove it"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const problem = (text: string): string | undefined => {
  if (text.trim().length === 0) {
    return text.length === 0 ? "is empty" : "holds only whitespace"
  }
  if (/[\r\n]$/.test(text)) return "ends with a line break (pasted with its newline?); remove it"
  if (/^\s|\s$/.test(text)) return "has leading or trailing whitespace; remove it"
  if (/\s/.test(text)) return "contains whitespace, which no key does; check that it was copied whole"

  if (/[\u0000-\u001f\u007f]/.test(text)) return "contains a control character; check that it was copied whole"
  return undefined
}

/**
 * A credential from configuration, redacted: fails with `MissingData` when it is not set or blank (as
 * `Config.nonEmptyString` does), and with `InvalidData` naming the variable when it holds whitespace or a control
 * character.
 *
 * @example
 * ```ts
 * import { Credential } from "@barge/core"
 * import { Config } from "effect"
 *
 * const apiKey = Credential.redacted("MOONSHOT_API_KEY")
 * const sessionToken = Config.option(Credential.redacted("VOLC_SESSIONTOKEN")) // unset or blank: None
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const redacted = (name: string): Config.Config<Redacted.Redacted<string>> =>
  // Checked outside `Config.redacted`, which replaces every message inside it with "<redacted>": these messages
  // never hold the value, and a person needs them. Nested, so a failure's path names the variable.
  Config.nested(
    Config.redacted().pipe(Config.mapOrFail((secret) => {
      const text = Redacted.value(secret)
      const found = problem(text)
      if (found === undefined) return Either.right(secret)
      return Either.left(
        text.trim().length === 0
          ? ConfigError.MissingData([], `${name} ${found}; set it to the key the provider issued`)
          : ConfigError.InvalidData([], `${name} ${found}`)
      )
    })),
    name
  )
