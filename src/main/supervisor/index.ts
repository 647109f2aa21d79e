export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { installShutdownHooks, type ShutdownHooks } from './processes/shutdown.js';
export { resolveBrokerEntry } from './processes/broker-entry.js';
export { redisMissingText } from './redis/locate.js';
