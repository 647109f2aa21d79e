export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { installShutdownHooks, type ShutdownHooks } from './shutdown.js';
export { resolveBrokerEntry } from './broker-entry.js';
export { redisMissingText } from './redis-locate.js';
