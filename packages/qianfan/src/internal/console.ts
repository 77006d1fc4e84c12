/**
 * The console actions of `POST /v2/batchinference?Action=…` over a transport (signed with `bce-auth-v1`), typed with
 * the wire schemas and mapped through the error table.
 */
import type * as Provider from "@barge/core/Provider"
import type * as Transport from "@barge/core/Transport"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Arr from "effect/Array"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Errors from "../Errors.js"
import * as Wire from "../Wire.js"

/** What the task list takes (`DescribeBatchInferenceTasks`). */
export interface ListFilter {
  /** Only tasks in these statuses. */
  readonly runStatus?: ReadonlyArray<string> | undefined
  /** Oldest first (the service's `pageReverse`); default newest first. */
  readonly pageReverse?: boolean | undefined
  /** Tasks per request, 1 to 100; default 100. */
  readonly pageSize?: number | undefined
}

/** The console actions. */
export interface Console {
  /** `CreateBatchInferenceTask`: the new task's id. Sent once (not idempotent). */
  readonly create: (request: Wire.CreateTaskRequest) => Effect.Effect<string, Provider.Failure>
  readonly describe: (taskId: string) => Effect.Effect<Wire.Task, Provider.Failure>
  /** Every page; a task that does not decode is logged and skipped, the rest of its page kept. */
  readonly list: (filter?: ListFilter) => Stream.Stream<Wire.Task, Provider.Failure>
  /** `result: false` fails with reason `Conflict`. */
  readonly stop: (taskId: string) => Effect.Effect<void, Provider.Failure>
  /** `result: false` fails with reason `Conflict`. */
  readonly delete: (taskId: string) => Effect.Effect<void, Provider.Failure>
}

const decodeTask = Schema.decodeUnknownEither(Wire.Task)

const idOf = (item: unknown): string | undefined =>
  Predicate.isRecord(item) && typeof item.taskId === "string" ? item.taskId : undefined

/** Builds the actions on the console's transport. */
export const make = (transport: Transport.Transport): Console => {
  const call = <A, I>(action: string, body: unknown, schema: Schema.Schema<A, I>, idempotent: boolean) =>
    transport.json(
      HttpClientRequest.post("/v2/batchinference").pipe(
        HttpClientRequest.setUrlParam("Action", action),
        HttpClientRequest.bodyUnsafeJson(body)
      ),
      schema,
      { action, idempotent }
    ).pipe(Effect.mapError(Errors.fromTransport))

  const page = (filter: ListFilter | undefined, marker: string | undefined) =>
    call(
      "DescribeBatchInferenceTasks",
      {
        maxKeys: Math.min(100, Math.max(1, filter?.pageSize ?? 100)),
        ...(marker === undefined ? {} : { marker }),
        ...(filter?.runStatus === undefined ? {} : { runStatus: filter.runStatus }),
        ...(filter?.pageReverse === undefined ? {} : { pageReverse: filter.pageReverse })
      } satisfies Wire.ListTasksRequest,
      Wire.ListTasksResponse,
      true
    ).pipe(
      Effect.flatMap((response) => {
        const items = response.result.taskList
        const [odd, tasks] = Arr.partitionMap(items, (item) => decodeTask(item))
        // The next page starts after the last task of this one (whether the service includes the marker task
        // itself is UNCONFIRMED, so a repeat is dropped).
        const last = Arr.findLast(items.map(idOf), Predicate.isNotUndefined)
        const next = response.result.pageInfo.isTruncated === true
          ? Option.filter(last, (id) => id !== marker)
          : Option.none()
        const kept = Chunk.fromIterable(tasks.filter((task) => task.taskId !== marker))
        return Effect.as(
          Effect.forEach(odd, (error) =>
            Effect.logWarning(
              `qianfan: skipped a task of the list that does not read: ${
                ParseResult.TreeFormatter.formatErrorSync(error)
              }`
            ), { discard: true }),
          [kept, next] as const
        )
      })
    )

  const answered = (action: "StopBatchInferenceTask" | "DeleteBatchInferenceTask") => (taskId: string) =>
    Effect.flatMap(
      call(action, { taskId }, Wire.ActionResponse, true),
      (response) =>
        response.result === false ? Effect.fail(Errors.refused(action, taskId, response.requestId)) : Effect.void
    )

  return {
    create: (request) =>
      Effect.map(call("CreateBatchInferenceTask", request, Wire.CreateTaskResponse, false), (r) => r.result.taskId),
    describe: (taskId) =>
      Effect.map(call("DescribeBatchInferenceTask", { taskId }, Wire.DescribeTaskResponse, true), (r) => r.result),
    list: (filter) => Stream.paginateChunkEffect(undefined as string | undefined, (marker) => page(filter, marker)),
    stop: answered("StopBatchInferenceTask"),
    delete: answered("DeleteBatchInferenceTask")
  }
}
