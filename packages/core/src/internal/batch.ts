/**
 * The implementation of the `Batch` service over a `Driver`: input validation, the split, per-part calls and the
 * merged views. The public models and errors live in `../Batch.ts`.
 */
import * as Arr from "effect/Array"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import * as Batch from "../Batch.js"
import * as ChatRequest from "../ChatRequest.js"
import * as InputValidation from "../InputValidation.js"
import * as Jsonl from "../Jsonl.js"
import * as Polling from "../Polling.js"
import * as internal from "./batchPlan.js"

type Numbered = readonly [lineNumber: number, parsed: Either.Either<ChatRequest.ChatRequest, ChatRequest.LineIssue>]

const numberJsonl = <E, R>(
  source: Batch.JsonlSource<E, R>,
  defaultModel: string | undefined
): Stream.Stream<Numbered, E, R> =>
  source.lines.pipe(
    Stream.filter((line) => line.text.trim().length > 0),
    Stream.map((
      line
    ): Numbered => [line.lineNumber, ChatRequest.fromJsonLine(line.text, line.lineNumber, defaultModel)]),
    // Bytes that are not UTF-8 stop the reading, so they are the last issue this input can report.
    Stream.catchAll((error): Stream.Stream<Numbered, E> =>
      error instanceof Jsonl.JsonlError
        ? Stream.make<[Numbered]>([
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

const numberRequests = <E, R>(
  requests: Stream.Stream<ChatRequest.ChatRequest, E, R>,
  defaultModel: string | undefined
): Stream.Stream<Numbered, E, R> =>
  requests.pipe(
    Stream.zipWithIndex,
    Stream.map(([request, i]): Numbered => [i + 1, ChatRequest.check(request, i + 1, defaultModel)])
  )

const isJsonlSource = (u: unknown): u is Batch.JsonlSource<unknown, unknown> => Predicate.isTagged(u, "JsonlSource")

const defaultLineBytes = (request: ChatRequest.ChatRequest): number =>
  Buffer.byteLength(ChatRequest.toOpenAiLine(request), "utf8")

// As many issues as core InputValidation keeps by default; all are counted.
const maxIssues = 100

/** The service over a driver whose limits are final. */
export const unsafeMake = <Job, E extends Batch.ProviderCause>(driver: Batch.Driver<Job, E>): Batch.Service => {
  const provider = driver.provider
  const lineBytes = driver.lineBytes ?? defaultLineBytes
  const capacity: internal.Capacity = {
    maxLines: driver.limits.maxLinesPerJob,
    maxBytes: Math.min(
      driver.limits.maxBytesPerJob,
      driver.limits.maxFilesPerJob !== undefined && driver.limits.maxBytesPerFile !== undefined
        ? driver.limits.maxFilesPerJob * driver.limits.maxBytesPerFile
        : Infinity
    )
  }
  // A line must also fit one input file, or the driver could not place it.
  const maxLineBytes = Math.min(capacity.maxBytes, driver.limits.maxBytesPerFile ?? Infinity) - 1

  const wrap = (operation: Batch.ProviderError["operation"], jobId?: string) => (cause: E) =>
    new Batch.ProviderError({ provider, operation, cause, ...(jobId === undefined ? {} : { jobId }) })

  const parseId = (id: string): Effect.Effect<Arr.NonEmptyReadonlyArray<string>, Batch.InvalidBatchId> => {
    const decoded = internal.decodeId(id)
    if (decoded._tag === "Left") return Effect.fail(new Batch.InvalidBatchId({ id, provider, reason: decoded.reason }))
    if (decoded.provider !== provider) {
      return Effect.fail(
        new Batch.InvalidBatchId({
          id,
          provider,
          reason: `it belongs to ${decoded.provider}; use the ${decoded.provider} layer to reach it`
        })
      )
    }
    return Arr.isNonEmptyReadonlyArray(decoded.jobIds)
      ? Effect.succeed(decoded.jobIds)
      : Effect.fail(new Batch.InvalidBatchId({ id, provider, reason: "no job ids" }))
  }

  const collectInput = <E2, R2>(
    input: Batch.Input<E2, R2>,
    defaultModel: string | undefined
  ): Effect.Effect<ReadonlyArray<ChatRequest.ChatRequest>, InputValidation.InputValidationError | E2, R2> => {
    const numbered = isJsonlSource(input)
      ? numberJsonl(input as Batch.JsonlSource<E2, R2>, defaultModel)
      : numberRequests(
        Predicate.hasProperty(input, Stream.StreamTypeId)
          ? (input as Stream.Stream<ChatRequest.ChatRequest, E2, R2>)
          : Stream.fromIterable(input as Iterable<ChatRequest.ChatRequest>),
        defaultModel
      )
    return Stream.runCollect(numbered).pipe(
      Effect.flatMap((chunk) => {
        const { issues, requests } = ChatRequest.collect(chunk)
        const tooLarge: Array<ChatRequest.LineIssue> = []
        const lineOf = new Map(
          Chunk.toReadonlyArray(chunk).flatMap(([n, e]) => Either.isRight(e) ? [[e.right, n]] : [])
        )
        let bytes = 0
        for (const request of requests) {
          const size = lineBytes(request)
          bytes += size + 1
          if (size > maxLineBytes) {
            tooLarge.push({
              lineNumber: lineOf.get(request) ?? 0,
              rule: "LineTooLarge",
              message: `${size} bytes is more than one ${provider} job accepts (${maxLineBytes} bytes)`
            })
          }
        }
        const all = [...issues, ...tooLarge].sort((a, b) => a.lineNumber - b.lineNumber)
        if (requests.length === 0 && all.length === 0) {
          all.push({ lineNumber: 0, rule: "EmptyFile", message: "the input has no requests" })
        }
        if (all.length > 0) {
          return Effect.fail(
            new InputValidation.InputValidationError({
              issues: all.slice(0, maxIssues).map((issue) => new InputValidation.Issue(issue)),
              totalIssues: all.length,
              lines: chunk.length,
              bytes
            })
          )
        }
        return Effect.succeed(requests)
      })
    )
  }

  const submit = <E2 = never, R2 = never>(input: Batch.Input<E2, R2>, options?: Batch.SubmitOptions) =>
    Effect.gen(function*() {
      const requests = yield* collectInput(input, options?.model)
      const parts = internal.plan(requests, capacity, (r) => lineBytes(r) + 1)
      const submitted: Array<Batch.JobStatus> = []
      for (const [index, part] of parts.entries()) {
        const context: Batch.PartContext = {
          model: part.model,
          part: index,
          parts: parts.length,
          ...(options?.completionWindow === undefined
            ? {}
            : { completionWindow: Duration.decode(options.completionWindow) }),
          ...(options?.metadata === undefined ? {} : { metadata: options.metadata })
        }
        const job = yield* driver.submitOne(
          part.requests as Arr.NonEmptyReadonlyArray<ChatRequest.ChatRequest>,
          context
        )
          .pipe(
            Effect.mapError(wrap("submit")),
            Effect.mapError((cause) =>
              submitted.length === 0 ? cause : new Batch.PartialSubmission({
                provider,
                submittedJobIds: submitted.map((s) => s.jobId),
                parts: parts.length,
                cause
              })
            )
          )
        const status = driver.status(job)
        // A provider may report 0 requests until it has validated the file (Moonshot's `validating`); the count
        // submitted is known here, so the first status does not claim an empty batch.
        submitted.push(
          status.counts.total >= part.requests.length ? status : new Batch.JobStatus({
            ...status,
            counts: new Batch.Counts({ ...status.counts, total: part.requests.length })
          })
        )
      }
      return Batch.aggregate(provider, submitted as unknown as Arr.NonEmptyReadonlyArray<Batch.JobStatus>)
    }).pipe(Effect.withSpan("Batch.submit", { attributes: { provider } }))

  const get = (id: string) =>
    parseId(id).pipe(
      Effect.flatMap((jobIds) =>
        Effect.forEach(
          jobIds,
          (jobId) =>
            driver.get(jobId).pipe(Effect.mapBoth({ onFailure: wrap("get", jobId), onSuccess: driver.status })),
          { concurrency: 4 }
        )
      ),
      Effect.map((parts) => Batch.aggregate(provider, parts as unknown as Arr.NonEmptyReadonlyArray<Batch.JobStatus>))
    )

  const watch = (id: string, options?: Batch.PollOptions): Stream.Stream<Batch.Progress, Batch.BatchError> =>
    Stream.unwrap(Effect.gen(function*() {
      const startedAt = yield* Clock.currentTimeMillis
      const samples: Array<internal.Sample> = []
      let polls = 0
      const progress = (status: Batch.BatchStatus) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          polls += 1
          const done = status.counts.completed + status.counts.failed
          const sample = { at: now, done }
          samples.push(sample)
          if (samples.length > internal.rateWindow) samples.shift()
          const perSecond = internal.rate(samples)
          const etaMillis = Batch.isTerminal(status.phase) ? 0 : internal.eta(status.counts.total - done, perSecond)
          return new Batch.Progress({
            status,
            polls,
            elapsed: Duration.millis(now - startedAt),
            ratePerSecond: Option.fromNullable(perSecond),
            eta: Option.map(Option.fromNullable(etaMillis), Duration.millis)
          })
        })
      return Polling.watch(get(id), {
        isTerminal: (status) => Batch.isTerminal(status.phase),
        expiresAt: (status) => status.expiresAt === undefined ? undefined : DateTime.toEpochMillis(status.expiresAt),
        // One observation per poll, even unchanged: elapsed time and the ETA move on regardless.
        equivalence: () => false,
        ...(options?.schedule === undefined ? {} : { schedule: options.schedule })
      }).pipe(
        Stream.catchTag("PollingTimeout", (timeout) =>
          Stream.fromEffect(
            Effect.flatMap(
              timeout.lastObserved instanceof Batch.BatchStatus ? Effect.succeed(timeout.lastObserved) : get(id),
              (status) => Effect.fail(new Batch.BatchTimeout({ status }))
            )
          )),
        Stream.mapEffect(progress)
      )
    }))

  const awaitBatch = (id: string, options?: Batch.PollOptions): Effect.Effect<Batch.BatchStatus, Batch.BatchError> =>
    Effect.gen(function*() {
      const last = yield* Stream.runLast(watch(id, options))
      // `watch` emits at least once or fails; the fallback only keeps the types honest.
      const status = Option.isSome(last) ? last.value.status : yield* get(id)
      if (status.phase === "completed") return status
      return yield* Batch.isTerminal(status.phase)
        ? new Batch.BatchFailed({ status })
        : new Batch.BatchTimeout({ status })
    }).pipe(Effect.withSpan("Batch.await", { attributes: { provider, id } }))

  const results = (id: string): Stream.Stream<Batch.BatchResult, Batch.BatchError> =>
    Stream.unwrap(
      Effect.map(parseId(id), (jobIds) =>
        Stream.concatAll(Chunk.fromIterable(jobIds.map((jobId) =>
          driver.results(jobId).pipe(Stream.mapError(wrap("results", jobId)))
        ))))
    )

  const cancel = (id: string) =>
    Effect.gen(function*() {
      const before = yield* get(id)
      yield* Effect.forEach(
        before.parts.filter((part) => !Batch.isTerminal(part.phase)),
        (part) =>
          driver.cancel(part.jobId).pipe(
            // A part that finished between the status read and the cancel is not a failure to cancel.
            Effect.catchAll((error) =>
              driver.get(part.jobId).pipe(
                Effect.flatMap((job) => Batch.isTerminal(driver.status(job).phase) ? Effect.void : Effect.fail(error)),
                Effect.orElseFail(() => error)
              )
            ),
            Effect.mapError(wrap("cancel", part.jobId))
          ),
        { concurrency: 4, discard: true }
      )
      return yield* get(id)
    })

  return Batch.Batch.of({
    provider,
    limits: driver.limits,
    submit,
    get,
    await: awaitBatch,
    watch,
    results,
    cancel,
    list: driver.list.pipe(
      Stream.map((job) => Batch.aggregate(provider, [driver.status(job)])),
      Stream.mapError(wrap("list"))
    )
  })
}
