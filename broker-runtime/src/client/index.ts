export { YakClient, type ConsumeOptions, type ProduceOptions, type YakClientOptions } from './yak-client.js';
export { GroupConsumer, type GroupConsumerOptions, type GroupRecord, type GroupBatch, type RunHandlers } from './group-consumer.js';
export {
  YakClientError,
  YakForbiddenError,
  YakOffsetOutOfRangeError,
  YakRetriesExhaustedError,
  YakThrottledError,
  YakUnauthenticatedError,
  type Attempt,
  type ClientCode,
} from './errors.js';
export type { Call } from './transport.js';
export type { ClientTlsOptions } from './tls-fetch.js';
export { DEFAULT_RETRY, backoffDelay, retryPolicy, withRetry, sleep, type RetryOptions, type RetryPolicy, type RetryDecision } from './retry.js';
export type * from './types.js';
