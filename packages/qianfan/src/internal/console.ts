/**
 * The four console actions of `POST /v2/batchinference?Action=…` over a transport, typed with the wire schemas and
 * mapped to the typed errors.
 */
import type * as Transport from "@barge/core/Transport"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Errors from "../Errors.js"
import * as Wire from "../Wire.js"

/** Options of the paged task list. */
export interface ListOptions {
  readonly runStatus?: ReadonlyArray<Wire.RunStatus> | undefined
  readonly pageReverse?: boolean | undefined
  readonly pageSize?: number | undefined
}

/** The console actions. */
export interface Console {
  readonly createTask: (request: Wire.CreateTaskRequest) => Effect.Effect<string, Errors.QianfanError>
  readonly describeTask: (taskId: string) => Effect.Effect<Wire.Task, Errors.QianfanError>
  readonly listTasks: (options?: ListOptions) => Stream.Stream<Wire.Task, Errors.QianfanError>
  readonly stopTask: (taskId: string) => Effect.Effect<void, Errors.QianfanError | Errors.StopRefused>
}

/**
 * Builds the actions. Only Create is not repeated by the transport: it is not idempotent, and `submit` handles
 * its ambiguous failures by looking for the task.
 */
export const make = (transport: Transport.Transport): Console => {
  const call = <A, I>(action: string, body: unknown, schema: Schema.Schema<A, I>, idempotent: boolean) =>
    transport.json(
      HttpClientRequest.post("/v2/batchinference").pipe(
        HttpClientRequest.setUrlParam("Action", action),
        HttpClientRequest.bodyUnsafeJson(body)
      ),
      schema,
      { action, idempotent }
    ).pipe(Effect.mapError(Errors.fromTransportError))

  const listTasks = (options?: ListOptions) =>
    Stream.paginateChunkEffect(undefined as string | undefined, (marker) =>
      Effect.map(
        call(
          "DescribeBatchInferenceTasks",
          {
            maxKeys: Math.min(100, Math.max(1, options?.pageSize ?? 100)),
            ...(marker === undefined ? {} : { marker }),
            ...(options?.runStatus === undefined ? {} : { runStatus: options.runStatus }),
            ...(options?.pageReverse === undefined ? {} : { pageReverse: options.pageReverse })
          },
          Wire.ListTasksResponse,
          true
        ),
        (page) => {
          const tasks = page.result.taskList
          // The next page starts after the last task of this one (whether the service includes the marker task
          // itself is UNCONFIRMED, so a repeat is dropped).
          const last = tasks[tasks.length - 1]?.taskId
          const next = page.result.pageInfo.isTruncated && last !== undefined && last !== marker ? last : undefined
          return [Chunk.fromIterable(tasks.filter((t) => t.taskId !== marker)), Option.fromNullable(next)] as const
        }
      ))

  return {
    createTask: (request) =>
      Effect.map(call("CreateBatchInferenceTask", request, Wire.CreateTaskResponse, false), (r) => r.result.taskId),
    describeTask: (taskId) =>
      Effect.map(call("DescribeBatchInferenceTask", { taskId }, Wire.DescribeTaskResponse, true), (r) => r.result),
    listTasks,
    stopTask: (taskId) =>
      Effect.flatMap(
        call("StopBatchInferenceTask", { taskId }, Wire.StopTaskResponse, true),
        (response) =>
          response.result ? Effect.void : Effect.fail(new Errors.StopRefused({ taskId, requestId: response.requestId }))
      )
  }
}
