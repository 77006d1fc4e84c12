/**
 * Creating a remote job at most once, without help from the provider: find → create → on an ambiguous failure find
 * again before sending again — inside a lock per key within the process, and with a convergence step across
 * processes that share no storage.
 *
 * Across processes the rule is: every job found for a key is a candidate, and the survivor is the oldest by creation
 * time, then the smallest id — the same choice in every process that sees the same jobs. A process whose own job is
 * not the survivor cancels its own job (never another's) and attaches to the survivor; a process that created a job,
 * or found one created within the last minute, looks again after `settle`, so a job created in the same second by
 * another process is seen. `settle` must be at least the resolution of the provider's creation times: jobs created
 * after that look have later creation times and lose. What remains is a window: a concurrent create that takes longer
 * than `settle` to show up in the provider's list can leave two jobs. The durable mode (`@barge/workflow`) closes it
 * with shared storage.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"
import * as StreamOps from "effect/Stream"

/**
 * What {@link createOnce} needs to know about a job.
 *
 * @since 0.1.0
 * @category models
 */
export interface Identity {
  readonly id: string
  /** Creation time in epoch milliseconds, when the provider reports it. */
  readonly createdAt: number | undefined
  /** Cancelled or being cancelled: a loser of an earlier convergence, not a candidate while others exist. */
  readonly cancelled: boolean
  /** Finished, so cancelling it is pointless. */
  readonly terminal: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<Job, E> {
  /** The lock and lookup key. */
  readonly key: string
  /** Every job that carries the key. */
  readonly find: Stream.Stream<Job, E>
  /** Sends one create. */
  readonly create: Effect.Effect<Job, E>
  /** What convergence needs to know of a job: its id, creation time and whether it is cancelled or finished. */
  readonly identify: (job: Job) => Identity
  /** Cancels this process's own job when another survives. */
  readonly cancel: (job: Job) => Effect.Effect<unknown, E>
  /** Whether a failed create may still have taken effect. */
  readonly isAmbiguous: (error: E) => boolean
  /** Creates sent in all while outcomes stay unknown; default 5. */
  readonly attempts?: number | undefined
  /** First wait before a resend, doubling, jittered; default 1 s. */
  readonly backoff?: Duration.DurationInput | undefined
  /** How long a creator waits before its second look for concurrent creates; default 1 s. */
  readonly settle?: Duration.DurationInput | undefined
}

/**
 * What {@link createOnce} did.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome<Job> {
  readonly job: Job
  /** `true` when the job existed already (or another process's create won) and was attached to. */
  readonly attached: boolean
}

/**
 * The survivor among jobs carrying one key: candidates are the jobs not cancelled (all of them if every one is),
 * ordered by creation time, then id.
 *
 * @since 0.1.0
 * @category convergence
 */
export const survivor = <Job>(
  jobs: ReadonlyArray<Job>,
  identify: (job: Job) => Identity
): Job | undefined => {
  const live = jobs.filter((job) => !identify(job).cancelled)
  const candidates = live.length > 0 ? live : jobs
  let best: Job | undefined
  for (const job of candidates) {
    if (best === undefined || before(identify(job), identify(best))) best = job
  }
  return best
}

const before = (a: Identity, b: Identity): boolean => {
  const at = a.createdAt ?? Number.POSITIVE_INFINITY
  const bt = b.createdAt ?? Number.POSITIVE_INFINITY
  return at !== bt ? at < bt : a.id < b.id
}

/** A job created longer ago than this (by the local clock) is past any concurrent create of the same input. */
const settledAfter = 60_000

interface Lock {
  readonly semaphore: Effect.Semaphore
  holders: number
  /** The survivor a holder confirmed after its look past `settle`, shared with the holders queued behind it. */
  settled: string | undefined
}

const locks = new Map<string, Lock>()

const lockFor = <A, E, R>(key: string, use: (lock: Lock) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      let entry = locks.get(key)
      if (entry === undefined) {
        entry = { semaphore: Effect.unsafeMakeSemaphore(1), holders: 0, settled: undefined }
        locks.set(key, entry)
      }
      entry.holders++
      return entry
    }),
    (entry) => entry.semaphore.withPermits(1)(use(entry)),
    (entry) =>
      Effect.sync(() => {
        entry.holders--
        if (entry.holders === 0) locks.delete(key)
      })
  )

/**
 * Runs `effect` while holding the process-wide lock for `key`: concurrent callers with one key run one at a time,
 * so the second finds what the first created.
 *
 * @since 0.1.0
 * @category locking
 */
export const withLock = (key: string) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  lockFor(key, () => effect)

/**
 * Finds the job carrying the key or creates it, once in this process and converging across processes.
 *
 * @since 0.1.0
 * @category creating
 */
export const createOnce = <Job, E>(options: Options<Job, E>): Effect.Effect<Outcome<Job>, E> => {
  const findAll = Effect.map(StreamOps.runCollect(options.find), Chunk.toReadonlyArray)
  const settle = options.settle ?? "1 second"
  const attempts = Math.max(1, options.attempts ?? 5)
  const created = options.create.pipe(
    Effect.map((job) => ({ job, own: true })),
    Effect.catchIf(options.isAmbiguous, (error) =>
      // The create may have happened even though its answer was lost: look before sending again. What is found may
      // be another process's job, so it is never cancelled as this process's own.
      Effect.flatMap(findAll, (jobs) => {
        const found = survivor(jobs, options.identify)
        return found === undefined ? Effect.fail(error) : Effect.succeed({ job: found, own: false })
      })),
    Effect.retry({
      schedule: Schedule.exponential(options.backoff ?? "1 second").pipe(
        Schedule.jittered,
        Schedule.intersect(Schedule.recurs(attempts - 1))
      ),
      while: options.isAmbiguous
    })
  )

  // A creator's own job loses to an older one found later: cancel its own, attach to the other.
  const converge = (mine: { readonly job: Job; readonly own: boolean }) =>
    Effect.flatMap(findAll, (jobs) => {
      const mineId = options.identify(mine.job).id
      const all = jobs.some((job) => options.identify(job).id === mineId) ? jobs : [...jobs, mine.job]
      const best = survivor(all, options.identify) ?? mine.job
      if (options.identify(best).id === mineId) return Effect.succeed<Outcome<Job> | undefined>(undefined)
      const cancelMine = !mine.own || options.identify(mine.job).terminal
        ? Effect.void
        : Effect.ignore(options.cancel(mine.job))
      return Effect.as(cancelMine, { job: best, attached: true } as Outcome<Job> | undefined)
    })

  return lockFor(options.key, (lock) =>
    Effect.gen(function*() {
      const settled = (outcome: Outcome<Job>) => {
        lock.settled = options.identify(outcome.job).id
        return outcome
      }
      const existing = survivor(yield* findAll, options.identify)
      if (existing !== undefined) {
        // A job created moments ago may be a loser its creator has not cancelled yet, and a better one may not be
        // listed yet: look again once creates of that moment have settled. An older job is past any race, and so
        // is the one a holder before this one in the process confirmed after its own look past `settle`.
        const createdAt = options.identify(existing).createdAt
        const now = yield* Clock.currentTimeMillis
        if (createdAt !== undefined && createdAt < now - settledAfter) return { job: existing, attached: true }
        if (lock.settled === options.identify(existing).id) return { job: existing, attached: true }
        yield* Effect.sleep(settle)
        return settled({ job: survivor(yield* findAll, options.identify) ?? existing, attached: true })
      }
      const mine = yield* created
      const first = yield* converge(mine)
      // Whether this process's job won or lost the first look, a job created in the same moment may not be listed
      // yet: one older than both, or one that ties and has a smaller id. Only the look after `settle` decides.
      yield* Effect.sleep(settle)
      if (first !== undefined) {
        return settled({ job: survivor(yield* findAll, options.identify) ?? first.job, attached: true })
      }
      return settled((yield* converge(mine)) ?? { job: mine.job, attached: !mine.own })
    }))
}
