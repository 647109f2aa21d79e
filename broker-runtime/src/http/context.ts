import type { Gate } from '../auth/gate.js';
import type { BrokerService } from '../broker/service.js';
import type { Logger } from './errors.js';
import type { ConnectionStanding } from './connection-limit.js';
import type { ReplicaAdmission } from './replica-admission.js';

/** What every route handler gets: the service, the limits, the logger. */
export interface HttpContext {
  service: BrokerService;
  maxMessageBytes: number;
  /** Byte limit of a JSON request body. */
  bodyLimit: number;
  /** Byte limit of a replication frame. */
  replicaBodyLimit: number;
  log: Logger;
  gate: Gate;
  /** Which POST /replica/append bodies are read, and how many at once (replica-admission.ts). */
  replicaAdmission: ReplicaAdmission;
  /** Whether a request's connection is past --max-connections and must prove the frame key (connection-limit.ts); absent: never. */
  connections?: ConnectionStanding;
}

