/**
 * The models each emulated provider knows. An unknown model gets that provider's real error from its surface.
 */
import type { Models } from "./Context.js"

/**
 * Defaults: the seeds' examples and the documented batch models. Ark's `Doubao-pro-32k` casing comes from a seed;
 * whether Ark matches model names case-insensitively is UNCONFIRMED, so both spellings are listed.
 */
export const defaults: Models = {
  ark: [
    { name: "doubao-pro-32k", versions: ["240615", "241215"] },
    { name: "Doubao-pro-32k", versions: ["240615"] },
    { name: "doubao-pro-128k", versions: ["240628"] },
    { name: "doubao-lite-32k", versions: ["240828"] },
    { name: "doubao-1-5-pro-32k", versions: ["250115"] },
    { name: "deepseek-v3", versions: ["250324"] }
  ],
  moonshot: ["kimi-k2.5", "kimi-k2.6", "moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"],
  openai: ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "gpt-5-mini", "gpt-5"],
  qianfan: [
    "ernie-4.0-8k",
    "ernie-x1-turbo-32k",
    "ernie-4.5-turbo-128k",
    "ernie-4.5-turbo-32k",
    "ernie-4.5-turbo-vl-32k",
    "ernie-4.5-vl-28b-A3b",
    "ernie-4.5-0.3b",
    "ernie-4.5-21b-a3b",
    "irag-1.0",
    "ernie-irag-edit",
    "qianfan-8b",
    "deepseek-r1-distill-qianfan-70b",
    "deepseek-r1-distill-qianfan-8b",
    "qianfan-llama-vl-8b",
    "deepseek-r1",
    "deepseek-r1-250528",
    "deepseek-v3",
    // The older docs pass the v1 chat URL as the endpoint.
    "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro",
    // `modelId` values (model version ids) of the documented SFT-style models.
    "amv-pzqtzdspm77m",
    "amv-irrrsmxabb6r",
    "amv-sb5kfqie51z1",
    "amv-mcwd9r3iuk67",
    "amv-8b79ynd4kjy2"
  ]
}

/** Overrides per provider; a provider left out keeps its defaults. */
export const make = (overrides?: Partial<Models>): Models => ({
  ark: overrides?.ark ?? defaults.ark,
  moonshot: overrides?.moonshot ?? defaults.moonshot,
  openai: overrides?.openai ?? defaults.openai,
  qianfan: overrides?.qianfan ?? defaults.qianfan
})

/** Whether Ark knows `name` at `version` (`undefined` accepts any version of the model). */
export const hasArkModel = (models: Models, name: string, version?: string): boolean =>
  models.ark.some((model) => model.name === name && (version === undefined || model.versions.includes(version)))
