/**
 * The credentials the emulator accepts. The defaults are public (they are in the README): the emulator guards
 * nothing, it only checks that clients sign correctly.
 */
import * as Config from "effect/Config"
import * as Redacted from "effect/Redacted"
import type { Credentials } from "./Context.js"

/** The documented default credentials. */
export const defaults: Credentials = {
  volcengine: { accessKeyId: "AKLTbargeemulator", secretAccessKey: "barge-emulator-volc-secret" },
  bce: { accessKeyId: "barge-emulator-bce-ak", secretAccessKey: "barge-emulator-bce-sk" },
  moonshot: { apiKey: "sk-barge-emulator" },
  openai: { apiKey: "sk-barge-emulator-openai" },
  qianfan: { apiKey: "bce-v3/ALTAK-bargeemulator/0123456789abcdef0123456789abcdef01234567" }
}

/** Partial overrides, merged over the defaults. */
export interface Overrides {
  readonly volcengine?: Partial<Credentials["volcengine"]>
  readonly bce?: Partial<Credentials["bce"]>
  readonly moonshot?: Partial<Credentials["moonshot"]>
  readonly openai?: Partial<Credentials["openai"]>
  readonly qianfan?: Partial<Credentials["qianfan"]>
}

/** Merges overrides over a base (the defaults unless given). */
export const merge = (overrides: Overrides | undefined, base: Credentials = defaults): Credentials => ({
  volcengine: { ...base.volcengine, ...overrides?.volcengine },
  bce: { ...base.bce, ...overrides?.bce },
  moonshot: { ...base.moonshot, ...overrides?.moonshot },
  openai: { ...base.openai, ...overrides?.openai },
  qianfan: { ...base.qianfan, ...overrides?.qianfan }
})

/**
 * The `lookupSecret` a `Verifier` takes for one key pair: the secret for its access key id, nothing for any other.
 */
export const secretLookup = (pair: { readonly accessKeyId: string; readonly secretAccessKey: string }) => {
  const secret = Redacted.make(pair.secretAccessKey)
  return (accessKeyId: string): Redacted.Redacted<string> | undefined =>
    accessKeyId === pair.accessKeyId ? secret : undefined
}

const optional = (name: string) => Config.option(Config.nonEmptyString(name))

/**
 * Reads `BARGE_EMULATOR_VOLC_ACCESS_KEY`, `BARGE_EMULATOR_VOLC_SECRET_KEY`, `BARGE_EMULATOR_BCE_ACCESS_KEY`,
 * `BARGE_EMULATOR_BCE_SECRET_KEY`, `BARGE_EMULATOR_MOONSHOT_API_KEY`, `BARGE_EMULATOR_OPENAI_API_KEY` and
 * `BARGE_EMULATOR_QIANFAN_API_KEY`; each one set replaces its default.
 */
export const config: Config.Config<Overrides> = Config.map(
  Config.all({
    volcAk: optional("BARGE_EMULATOR_VOLC_ACCESS_KEY"),
    volcSk: optional("BARGE_EMULATOR_VOLC_SECRET_KEY"),
    bceAk: optional("BARGE_EMULATOR_BCE_ACCESS_KEY"),
    bceSk: optional("BARGE_EMULATOR_BCE_SECRET_KEY"),
    moonshotKey: optional("BARGE_EMULATOR_MOONSHOT_API_KEY"),
    openaiKey: optional("BARGE_EMULATOR_OPENAI_API_KEY"),
    qianfanKey: optional("BARGE_EMULATOR_QIANFAN_API_KEY")
  }),
  (env) => ({
    volcengine: {
      ...(env.volcAk._tag === "Some" ? { accessKeyId: env.volcAk.value } : {}),
      ...(env.volcSk._tag === "Some" ? { secretAccessKey: env.volcSk.value } : {})
    },
    bce: {
      ...(env.bceAk._tag === "Some" ? { accessKeyId: env.bceAk.value } : {}),
      ...(env.bceSk._tag === "Some" ? { secretAccessKey: env.bceSk.value } : {})
    },
    moonshot: env.moonshotKey._tag === "Some" ? { apiKey: env.moonshotKey.value } : {},
    openai: env.openaiKey._tag === "Some" ? { apiKey: env.openaiKey.value } : {},
    qianfan: env.qianfanKey._tag === "Some" ? { apiKey: env.qianfanKey.value } : {}
  })
)
