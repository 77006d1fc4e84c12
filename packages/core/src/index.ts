/**
 * Barge core: request signing, the HTTP transport, JSONL streams, polling, input validation and the
 * provider-agnostic `Batch` front.
 *
 * @since 0.1.0
 */

/**
 * Byte-buffer helpers: joining the chunks a stream delivered.
 *
 * @since 0.1.0
 */
export * as Bytes from "./Bytes.js"

/**
 * The V4 signing family (Volcengine OpenAPI, TOS, AWS SigV4) as pure, vector-tested functions.
 *
 * @since 0.1.0
 */
export * as SignatureV4 from "./SignatureV4.js"

/**
 * Baidu `bce-auth-v1` signing (Qianfan, BOS) as pure functions.
 *
 * @since 0.1.0
 */
export * as BceAuth from "./BceAuth.js"

/**
 * The `Signer` service and its schemes.
 *
 * @since 0.1.0
 */
export * as Signer from "./Signer.js"

/**
 * Credentials from configuration, refused before any request when blank or holding whitespace.
 *
 * @since 0.1.0
 */
export * as Credential from "./Credential.js"

/**
 * The HTTP edge every provider uses: base URL, signer, timeouts, retries honouring `Retry-After`, typed errors.
 *
 * @since 0.1.0
 */
export * as Transport from "./Transport.js"

/**
 * The typed failures of the HTTP edge.
 *
 * @since 0.1.0
 */
export * as TransportError from "./TransportError.js"

/**
 * JSON Lines over byte streams: numbered lines, Schema decoding, encoding.
 *
 * @since 0.1.0
 */
export * as Jsonl from "./Jsonl.js"

/**
 * Polling a remote job until it is terminal, with a replaceable `Schedule`.
 *
 * @since 0.1.0
 */
export * as Polling from "./Polling.js"

/**
 * Resumable JSONL downloads over `Range`, never re-emitting or skipping a line.
 *
 * @since 0.1.0
 */
export * as Download from "./Download.js"

/**
 * The object-storage shape TOS and BOS implement.
 *
 * @since 0.1.0
 */
export * as ObjectStorage from "./ObjectStorage.js"

/**
 * Validation of batch input lines, reporting every problem at once before anything is uploaded.
 *
 * @since 0.1.0
 */
export * as InputValidation from "./InputValidation.js"

/**
 * The provider-agnostic chat request and response models.
 *
 * @since 0.1.0
 */
export * as ChatRequest from "./ChatRequest.js"

/**
 * The one error family every provider's API refusals map onto, with a closed `reason`.
 *
 * @since 0.1.0
 */
export * as ApiError from "./ApiError.js"

/**
 * Completion windows: each provider's accepted values as data, and the mapping of a requested window onto them.
 *
 * @since 0.1.0
 */
export * as CompletionWindow from "./CompletionWindow.js"

/**
 * Creating a remote job at most once: a lock per key, find → create → find again, convergence across processes.
 *
 * @since 0.1.0
 */
export * as Idempotency from "./Idempotency.js"

/**
 * The provider contract: what a batch platform supplies so core runs the whole lifecycle on it.
 *
 * @since 0.1.0
 */
export * as Provider from "./Provider.js"

/**
 * The OpenAI batch result-line format, decoded once for every provider that writes it.
 *
 * @since 0.1.0
 */
export * as ResultLine from "./ResultLine.js"

/**
 * An in-memory batch platform for tests, driven by `TestClock`.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"

/**
 * What a provider package tells the CLI, the demo and the emulator helper: name, credentials, layers.
 *
 * @since 0.1.0
 */
export * as Registry from "./Registry.js"

/**
 * The unified `Batch` service: one program, any provider, chosen by Layer.
 *
 * @since 0.1.0
 */
export * as Batch from "./Batch.js"
