/**
 * Test batches: seeded requests (every 7th carries the emulator's failure marker) and the check that a sink holds
 * every result of them exactly once, each the emulator's answer.
 */
import type * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as Emulator from "@barge/emulator/Emulator"
import * as Option from "effect/Option"
import * as Fs from "node:fs"

export const make = (count: number, tag: string, model: string): ReadonlyArray<ChatRequest.ChatRequest> =>
  Array.from({ length: count }, (_, i) => ({
    customId: `${tag}-${i + 1}`,
    model,
    messages: [{
      role: "user",
      content: (i + 1) % 7 === 0
        ? `please fail ${Emulator.failMarker} (${tag} ${i + 1})`
        : `question ${i + 1} of ${tag}`
    }]
  }))

/** The results in a JSONL sink file (a last line cut short by a kill is not counted: it cannot be there). */
export const readSink = (path: string): ReadonlyArray<Batch.BatchResult> =>
  Fs.existsSync(path)
    ? Fs.readFileSync(path, "utf8").split("\n").filter((line) => line !== "").map((line) =>
      JSON.parse(line) as Batch.BatchResult
    )
    : []

/** What is wrong with `results` as the results of `requests`: missing, duplicated, unexpected or wrong. */
export const problems = (
  requests: ReadonlyArray<ChatRequest.ChatRequest>,
  results: ReadonlyArray<Batch.BatchResult>
): ReadonlyArray<string> => {
  const found: Array<string> = []
  const seen = new Map<string, number>()
  for (const result of results) seen.set(result.customId, (seen.get(result.customId) ?? 0) + 1)
  const byId = new Map(results.map((r) => [r.customId, r]))
  for (const request of requests) {
    const times = seen.get(request.customId) ?? 0
    if (times !== 1) {
      found.push(`${request.customId}: ${times} times`)
      continue
    }
    const text = String(request.messages[request.messages.length - 1]!.content)
    const result = byId.get(request.customId)!
    const fails = text.includes(Emulator.failMarker)
    if (fails !== (result._tag === "Failed")) found.push(`${request.customId}: ${result._tag}`)
    if (result._tag === "Succeeded") {
      const content = Option.getOrElse(ChatRequest.content(result.response), () => "")
      if (content !== Emulator.expectedContent(request.customId, text)) found.push(`${request.customId}: wrong answer`)
    }
  }
  const known = new Set(requests.map((r) => r.customId))
  for (const id of seen.keys()) if (!known.has(id)) found.push(`${id}: not submitted`)
  return found
}
