export { createBrokerServer, type BrokerServerOptions, type RefusedReason, type RequestLogEntry } from './server.js';
export { DEFAULT_MAX_HTTP_CONNECTIONS } from './connection-limit.js';
export { FRAMING_ALLOWANCE_BYTES } from './body.js';
export { mapError } from './errors.js';
export { renderConsume } from './consume-render.js';
export { CONSUME_MAX, CONSUME_WAIT_MS, MAX_BATCH_RECORDS, MAX_TOPIC_PARTITIONS, TOPIC_NAME } from './validate.js';
