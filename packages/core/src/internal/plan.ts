/**
 * Pass one of a submission: read every request once, check it (core's rules, then the provider's), encode it with
 * the provider's `encodeLine` — the one source of both the size check and the uploaded bytes — and place it in a
 * job and an input file. Only the placement (one small number per request) and the ids are kept, so the input is
 * never held whole; pass two ({@link fileBody}) reads it again for each file to upload.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as Batch from "../Batch.js"
import * as ChatRequest from "../ChatRequest.js"
import * as CompletionWindow from "../CompletionWindow.js"
import * as InputValidation from "../InputValidation.js"
import * as Jsonl from "../Jsonl.js"
import type * as Provider from "../Provider.js"

/** One input entry: its 1-based line (or position) and the request, or the issue that stops it. */
export type Numbered = readonly [
  lineNumber: number,
  parsed: Either.Either<ChatRequest.ChatRequest, ChatRequest.LineIssue>
]

/** As many issues as core `InputValidation` keeps by default; all are counted. */
const maxIssues = 100

const isJsonlSource = (u: unknown): u is Batch.JsonlSource<unknown, unknown> => Predicate.isTagged(u, "JsonlSource")

/**
 * One input entry: a JSONL line, read as a request only where it is looked at ({@link parse}) — so a line is never
 * parsed long before it is used, and pass two parses only the lines of the file it writes — or a request built in
 * code, numbered and checked.
 */
export type Entry = Jsonl.Line | Numbered

const isNumbered = (entry: Entry): entry is Numbered => Array.isArray(entry)

/** The entry's 1-based line (or position). */
export const lineNumberOf = (entry: Entry): number => (isNumbered(entry) ? entry[0] : entry.lineNumber)

/** The entry as a request, or the issue that stops it. */
export const parse = (
  entry: Entry,
  defaultModel: string | undefined
): Either.Either<ChatRequest.ChatRequest, ChatRequest.LineIssue> =>
  isNumbered(entry) ? entry[1] : ChatRequest.fromJsonLine(entry.text, entry.lineNumber, defaultModel)

/**
 * The input as a re-runnable stream of entries (blank lines skipped). An `Iterable` that is not an array is read
 * once and kept, so a generator can be read twice like everything else; an iterator that throws is an issue, not a
 * defect.
 */
export const entries = <E, R>(
  input: Batch.Input<E, R>,
  defaultModel: string | undefined
): Stream.Stream<Entry, E, R> => {
  if (isJsonlSource(input)) {
    return (input as Batch.JsonlSource<E, R>).lines.pipe(
      Stream.filter((line) => line.text.trim().length > 0),
      // Bytes that are not UTF-8 stop the reading, so they are the last issue this input can report.
      Stream.catchAll((error): Stream.Stream<Entry, E> =>
        error instanceof Jsonl.JsonlError
          ? Stream.make<[Entry]>([
            error.lineNumber,
            Either.left({
              lineNumber: error.lineNumber,
              rule: "InvalidUtf8",
              message: `${error.description}; save the file as UTF-8`
            })
          ])
          : Stream.fail(error)
      )
    )
  }
  if (Predicate.hasProperty(input, Stream.StreamTypeId) || Array.isArray(input)) {
    return ChatRequest.numbered(input as Stream.Stream<ChatRequest.ChatRequest, E, R>, defaultModel)
  }
  // Any other iterable (a generator) can be read once only: its numbered requests are kept for the second pass.
  const iterable = input as Iterable<ChatRequest.ChatRequest>
  return Stream.suspend(() => {
    const cached = copies.get(iterable)
    if (cached !== undefined) return Stream.fromIterable(cached)
    return Stream.unwrap(
      Effect.map(Stream.runCollect(ChatRequest.numbered(iterable, defaultModel)), (chunk) => {
        const all = Chunk.toReadonlyArray(chunk)
        copies.set(iterable, all)
        return Stream.fromIterable(all)
      })
    )
  })
}

const copies = new WeakMap<object, ReadonlyArray<Numbered>>()

/** One input file of a planned job. */
export interface PlannedFile {
  /** Index over the whole submission: what {@link Plan.fileOf} holds. */
  readonly global: number
  lines: number
  bytes: number
}

/** One planned job. */
export interface PlannedPart {
  readonly index: number
  readonly partKey: string
  readonly model: string
  readonly parameters: Readonly<Record<string, unknown>>
  lines: number
  bytes: number
  readonly files: Array<PlannedFile>
}

/** The outcome of pass one. */
export interface Plan {
  readonly key: string
  readonly lines: number
  readonly bytes: number
  readonly window: string | undefined
  readonly metadata: Readonly<Record<string, string>>
  readonly parts: ReadonlyArray<PlannedPart & { readonly key: string }>
  /** The global file of each request, by its position among the input's requests. */
  readonly fileOf: ReadonlyArray<number>
  readonly dropped: ReadonlyArray<Batch.DroppedParameter>
}

/** What pass one needs from the provider and the options. */
export interface PlanOptions {
  readonly provider: Provider.Provider<unknown, unknown, unknown>
  readonly limits: Provider.Limits
  readonly submit: Batch.SubmitOptions
}

/** The request as it is sent: without the fixed parameters the user asked to drop. */
export const withoutFixed = (
  request: ChatRequest.ChatRequest,
  fixed: ReadonlyArray<string>
): ChatRequest.ChatRequest => {
  if (fixed.length === 0 || !fixed.some((name) => name in request)) return request
  const copy: Record<string, unknown> = { ...request }
  for (const name of fixed) delete copy[name]
  return copy as ChatRequest.ChatRequest
}

const issueOf = (issue: ChatRequest.LineIssue) => new InputValidation.Issue(issue)

/** Pass one: every issue of the input, or its plan. */
export const plan = <E, R>(
  input: Batch.Input<E, R>,
  options: PlanOptions
): Effect.Effect<Plan, InputValidation.InputValidationError | E, R> =>
  Effect.suspend(() => {
    const { provider, limits } = options
    const fixed = provider.fixedParameters ?? []
    const drop = options.submit.fixedParameters === "drop"
    const maxFiles = limits.maxFilesPerJob ?? 1
    const maxFileBytes = Math.min(limits.maxBytesPerFile ?? limits.maxBytesPerJob, limits.maxBytesPerJob)
    const partKeyOf = provider.partKey ?? ((request: ChatRequest.ChatRequest) => request.model)

    const issues: Array<InputValidation.Issue> = []
    let totalIssues = 0
    const report = (lineNumber: number, rule: InputValidation.IssueRule, message: string) => {
      totalIssues++
      if (issues.length < maxIssues) issues.push(new InputValidation.Issue({ lineNumber, rule, message }))
    }

    const window = CompletionWindow.resolve(provider.window, provider.name, options.submit.completionWindow)
    if (Either.isLeft(window)) report(0, "InvalidParameter", window.left)
    const metadata = { ...options.submit.metadata }
    for (const message of provider.checkSubmission?.(options.submit) ?? []) report(0, "InvalidParameter", message)

    const hash = createHash("sha256")
    hash.update(JSON.stringify([provider.name, Either.getOrUndefined(window) ?? null, sortedEntries(metadata)]))
    const firstSeen = new Map<string, number>()
    const fileOf: Array<number> = []
    const parts: Array<PlannedPart> = []
    const open = new Map<string, PlannedPart>()
    const dropped: Array<Batch.DroppedParameter> = []
    let files = 0
    let lines = 0
    let bytes = 0

    const endpoints = [provider.endpoint, ...(provider.acceptedEndpoints ?? [])]
    // Each line is encoded to UTF-8 once, here: its size, and the bytes the submission's hash reads.
    const scratch = new LineBuffer()

    const place = (request: ChatRequest.ChatRequest, partKey: string, size: number): number => {
      let part = open.get(partKey)
      let file = part?.files[part.files.length - 1]
      const fitsPart = part !== undefined && part.lines < limits.maxLinesPerJob &&
        part.bytes + size <= limits.maxBytesPerJob
      if (part === undefined || file === undefined || !fitsPart) {
        part = {
          index: parts.length,
          partKey,
          model: request.model,
          parameters: provider.partKey === undefined ? {} : ChatRequest.parameters(request),
          lines: 0,
          bytes: 0,
          files: []
        }
        parts.push(part)
        open.set(partKey, part)
        file = undefined
      }
      if (file === undefined || file.bytes + size > maxFileBytes) {
        if (file !== undefined && part.files.length >= maxFiles) {
          // The part is full of files: start another part for this key.
          open.delete(partKey)
          return place(request, partKey, size)
        }
        file = { global: files++, lines: 0, bytes: 0 }
        part.files.push(file)
      }
      part.lines++
      part.bytes += size
      file.lines++
      file.bytes += size
      return file.global
    }

    const visit = (entry: Entry) => {
      const lineNumber = lineNumberOf(entry)
      const parsed = parse(entry, options.submit.model)
      if (Either.isLeft(parsed)) {
        const issue = issueOf(parsed.left)
        report(issue.lineNumber, issue.rule, issue.message)
        fileOf.push(-1)
        return
      }
      let request = parsed.right
      const earlier = firstSeen.get(request.customId)
      if (earlier !== undefined) {
        report(
          lineNumber,
          "DuplicateId",
          `custom id "${request.customId}" already used on line ${earlier}; ids must be unique to join results`
        )
        fileOf.push(-1)
        return
      }
      firstSeen.set(request.customId, lineNumber)
      let ok = true
      const present = fixed.length === 0 ? fixed : fixed.filter((name) => name in request)
      if (present.length > 0) {
        if (drop) {
          for (const parameter of present) {
            dropped.push(
              new Batch.DroppedParameter({
                lineNumber,
                customId: request.customId,
                parameter,
                value: (request as Record<string, unknown>)[parameter]
              })
            )
          }
          request = withoutFixed(request, fixed)
        } else {
          ok = false
          report(
            lineNumber,
            "FixedParameter",
            `${present.map((name) => `"${name}"`).join(", ")} cannot be set in a ${provider.name} batch (the ` +
              `provider fixes ${present.length === 1 ? "it" : "them"} for batch requests): remove ${
                present.length === 1 ? "it" : "them"
              }, or submit with fixedParameters: "drop" (CLI: --drop-fixed-parameters) to send the line without`
          )
        }
      }
      const endpoint = ChatRequest.checkEndpoint(request.url, endpoints)
      if (endpoint !== undefined) {
        ok = false
        report(lineNumber, "InvalidField", endpoint)
      }
      for (const message of provider.check?.(request) ?? []) {
        ok = false
        report(lineNumber, "InvalidParameter", message)
      }
      if (!ok) {
        fileOf.push(-1)
        return
      }
      const line = provider.encodeLine(request)
      const partKey = partKeyOf(request)
      const encoded = scratch.encode(partKey, line)
      const size = encoded.length - scratch.lineStart
      lines++
      bytes += size
      if (size > maxFileBytes) {
        report(
          lineNumber,
          "LineTooLarge",
          `${size} bytes is more than one ${provider.name} input file accepts (${maxFileBytes} bytes)`
        )
        fileOf.push(-1)
        return
      }
      // The part key, a NUL, the line and its newline.
      hash.update(encoded)
      fileOf.push(place(request, partKey, size))
    }

    return entries(input, options.submit.model).pipe(
      Stream.runForEachChunk((chunk) => Effect.sync(() => Chunk.forEach(chunk, visit))),
      Effect.flatMap(() => {
        if (fileOf.length === 0 && totalIssues === 0) {
          report(0, "EmptyFile", "the input has no requests")
        }
        if (totalIssues > 0) {
          return Effect.fail(
            new InputValidation.InputValidationError({
              issues: issues.sort((a, b) => a.lineNumber - b.lineNumber),
              totalIssues,
              lines: fileOf.length,
              bytes
            })
          )
        }
        const key = hash.digest("hex")
        return Effect.succeed<Plan>({
          key,
          lines,
          bytes,
          window: Either.getOrUndefined(window),
          metadata,
          parts: parts.map((part) => ({ ...part, key: partKey(key, part.index, parts.length) })),
          fileOf,
          dropped
        })
      })
    )
  })

/**
 * `partKey`, a NUL, `line` and a newline as UTF-8, in one buffer reused from line to line (grown when a line needs
 * more): one encoding gives both the line's size and the bytes hashed.
 */
class LineBuffer {
  private bytes = new Uint8Array(64 * 1024)
  /** Where the line starts in the last {@link encode}d bytes. */
  lineStart = 0

  encode(partKey: string, line: string): Uint8Array {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; a NUL and a newline more.
    const most = 3 * (partKey.length + line.length) + 2
    if (this.bytes.length < most) this.bytes = new Uint8Array(Math.max(most, 2 * this.bytes.length))
    const bytes = this.bytes
    let at = encoder.encodeInto(partKey, bytes).written
    bytes[at++] = 0
    this.lineStart = at
    at += encoder.encodeInto(line, bytes.subarray(at)).written
    bytes[at++] = 0x0a
    return bytes.subarray(0, at)
  }
}

const encoder = new TextEncoder()

const sortedEntries = (record: Readonly<Record<string, string>>) =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** A part's idempotency key: 40 hex digits, the same for the same submission planned the same way. */
export const partKey = (submission: string, index: number, count: number): string =>
  createHash("sha256").update(`${submission}:${index}/${count}`).digest("hex").slice(0, 40)

const inputChanged = (detail: string) =>
  new InputValidation.InputValidationError({
    issues: [
      new InputValidation.Issue({
        lineNumber: 0,
        rule: "InputChanged",
        message: `the input changed while it was being submitted (${detail}); submit it again`
      })
    ],
    totalIssues: 1,
    lines: 0,
    bytes: 0
  })

/**
 * Pass two, for one input file: the same input read again, keeping the requests placed in `global`, each encoded
 * by the provider, as bytes. Fails with an `InputChanged` issue if the input no longer matches its plan.
 */
export const fileBody = <E, R>(
  input: Batch.Input<E, R>,
  options: PlanOptions,
  plan: Plan,
  global: number,
  expectedBytes: number
): Stream.Stream<Uint8Array, InputValidation.InputValidationError | E, R> =>
  Stream.suspend(() => {
    const fixed = options.submit.fixedParameters === "drop" ? options.provider.fixedParameters ?? [] : []
    const encoder = new TextEncoder()
    let position = 0
    let sent = 0
    return entries(input, options.submit.model).pipe(
      Stream.mapChunksEffect((chunk) => {
        let text = ""
        for (const entry of chunk) {
          const file = plan.fileOf[position++]
          if (file !== global) continue
          const parsed = parse(entry, options.submit.model)
          if (Either.isLeft(parsed)) return Effect.fail(inputChanged(`line ${lineNumberOf(entry)} no longer reads`))
          text += options.provider.encodeLine(withoutFixed(parsed.right, fixed)) + "\n"
        }
        if (text.length === 0) return Effect.succeed(Chunk.empty<Uint8Array>())
        const bytes = encoder.encode(text)
        sent += bytes.length
        return sent > expectedBytes
          ? Effect.fail(inputChanged("more bytes than planned"))
          : Effect.succeed(Chunk.of(bytes))
      }),
      Stream.concat(
        Stream.suspend(() =>
          sent === expectedBytes && position === plan.fileOf.length
            ? Stream.empty
            : Stream.fail(inputChanged(`${sent} of ${expectedBytes} bytes, ${position} of ${plan.fileOf.length} lines`))
        )
      )
    )
  })
