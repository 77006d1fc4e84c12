/**
 * @since 0.1.0
 */
export {}

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
 * Server-side verification of signed requests (used by the emulator).
 *
 * @since 0.1.0
 */
export * as Verifier from "./Verifier.js"

/**
 * The `Signer` service and its schemes.
 *
 * @since 0.1.0
 */
export * as Signer from "./Signer.js"
