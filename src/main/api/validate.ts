import type {
  BatchRecord,
  BrokerAction,
  ClusterApi,
  ClusterApiCall,
  ClusterSettings,
  ConsumeRequest,
  FailoverOptions,
  GroupMemberAction,
  GroupMembersRequest,
  ProduceCallOptions,
  ProduceRequest,
  TopicConfigChange,
  TopicConfigKey,
} from '../../shared/cluster-api.js';
import { MAX_RECORD_BYTES, recordBytes } from '../../shared/record-size.js';
import * as c from './checks.js';
import { ApiError, invalidArgument } from './errors.js';
import { SETTINGS_LIMITS } from './limits.js';

/**
 * Argument validation for every ClusterApi call, in one table shared by the IPC handlers and the
 * web routes: the renderer is untrusted, and both doors must refuse the same things the same way.
 */

export type CallArgs<M extends ClusterApiCall> = Parameters<ClusterApi[M]>;
type Validator<M extends ClusterApiCall> = (args: readonly unknown[]) => CallArgs<M>;

const BROKER_ACTIONS: readonly BrokerAction[] = ['start', 'stop', 'kill', 'pause', 'resume', 'restart'];
const PROCESS_NAME_RE = /^(redis|broker-[1-9][0-9]{0,2})$/;
const BROKER_ID_RE = /^broker-[1-9][0-9]{0,2}$/;
export const MAX_BATCH_RECORDS = 10_000;
/** How long produceOnBroker may wait for one broker (a paused one answers only once resumed). */
export const DIRECT_PRODUCE_TIMEOUT = { min: 100, max: 60_000, default: 10_000 } as const;
const MAX_DIRECT_REQUESTS = 100;

const TOPIC_CONFIG_KEYS: readonly TopicConfigKey[] = ['retention.ms', 'retention.bytes', 'min.insync.replicas'];

/** Known keys only, each a safe integer (the broker checks the range and says why) or null. */
function topicConfigChange(value: unknown): TopicConfigChange {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument('config must be an object of Kafka-named keys');
  const out: TopicConfigChange = {};
  const entries = Object.entries(value);
  if (entries.length === 0) throw invalidArgument(`config must name at least one of ${TOPIC_CONFIG_KEYS.join(', ')}`);
  for (const [k, v] of entries) {
    if (!(TOPIC_CONFIG_KEYS as readonly string[]).includes(k)) throw invalidArgument(`unknown config key '${k.slice(0, 60)}'; known: ${TOPIC_CONFIG_KEYS.join(', ')}`);
    if (v !== null && (typeof v !== 'number' || !Number.isSafeInteger(v))) throw invalidArgument(`config.${k} must be a whole number or null, got ${JSON.stringify(v)?.slice(0, 40)}`);
    out[k as TopicConfigKey] = v as number | null;
  }
  return out;
}

const CANCEL_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

function cancelId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !CANCEL_ID_RE.test(value)) throw invalidArgument(`${name} must be 1-64 letters, digits, '-' or '_'`);
  return value;
}

/** Absent, or {cancelId?}. */
function produceCallOptions(value: unknown): ProduceCallOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument('options must be an object {cancelId?}');
  const extra = Object.keys(value).filter((k) => k !== 'cancelId');
  if (extra.length) throw invalidArgument(`options: unknown key '${extra[0]!.slice(0, 40)}' (known: cancelId)`);
  const id = (value as { cancelId?: unknown }).cancelId;
  return id === undefined ? {} : { cancelId: cancelId(id, 'options.cancelId') };
}

function arity(args: readonly unknown[], method: string, min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw invalidArgument(`${method} takes ${want} argument(s), got ${args.length}`);
  }
}

const none =
  <M extends ClusterApiCall>(method: M): Validator<M> =>
  (args) => {
    arity(args, method, 0);
    return [] as unknown as CallArgs<M>;
  };

function processName(value: unknown, what: string): string {
  const name = c.string(value, what, 64);
  if (!PROCESS_NAME_RE.test(name)) throw invalidArgument(`${what} must be 'redis' or a broker id such as 'broker-1'`);
  return name;
}

function brokerId(value: unknown, what: string): string {
  const id = c.string(value, what, 64);
  if (!BROKER_ID_RE.test(id)) throw invalidArgument(`${what} must be a broker id such as 'broker-1'`);
  return id;
}

export function settingsPatch(value: unknown): Partial<ClusterSettings> {
  const L = SETTINGS_LIMITS;
  const raw = c.object(value, 'settings', ['brokerCount', 'leaseSeconds', 'renewSeconds', 'partitions', 'minInsync', 'externalRedisUrl']);
  const patch: Partial<ClusterSettings> = {};
  if (raw['brokerCount'] !== undefined) patch.brokerCount = c.integer(raw['brokerCount'], 'settings.brokerCount', L.brokers.min, L.brokers.max);
  if (raw['leaseSeconds'] !== undefined) patch.leaseSeconds = c.decimal(raw['leaseSeconds'], 'settings.leaseSeconds', L.leaseSeconds.min, L.leaseSeconds.max);
  if (raw['renewSeconds'] !== undefined) patch.renewSeconds = c.decimal(raw['renewSeconds'], 'settings.renewSeconds', L.renewSeconds.min, L.renewSeconds.max);
  if (raw['partitions'] !== undefined) patch.partitions = c.integer(raw['partitions'], 'settings.partitions', L.partitions.min, L.partitions.max);
  if (raw['minInsync'] !== undefined) patch.minInsync = c.integer(raw['minInsync'], 'settings.minInsync', L.brokers.min, L.brokers.max);
  if (raw['externalRedisUrl'] !== undefined) patch.externalRedisUrl = redisUrl(raw['externalRedisUrl']);
  return patch;
}

function redisUrl(value: unknown): string | null {
  if (value === null || value === '') return null;
  const text = c.string(value, 'settings.externalRedisUrl', 2000);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidArgument('settings.externalRedisUrl must be a URL such as redis://127.0.0.1:6379 (or null for the embedded Redis)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw invalidArgument('settings.externalRedisUrl must start with redis:// or rediss://');
  }
  return text;
}

function failoverOptions(value: unknown): FailoverOptions {
  const raw = c.object(value ?? {}, 'options', ['mode', 'restartOldLeader', 'demoProducer']);
  return {
    mode: raw['mode'] === undefined ? 'kill' : c.oneOf(raw['mode'], 'options.mode', ['kill', 'pause'] as const),
    restartOldLeader: raw['restartOldLeader'] === undefined ? true : c.boolean(raw['restartOldLeader'], 'options.restartOldLeader'),
    demoProducer: raw['demoProducer'] === undefined ? true : c.boolean(raw['demoProducer'], 'options.demoProducer'),
  };
}

function recordFields(raw: c.Plain, what: string): BatchRecord {
  if (!('payload' in raw)) throw invalidArgument(`${what}.payload is required (any JSON value)`);
  const record: BatchRecord = { payload: c.jsonValue(raw['payload'], `${what}.payload`) };
  if (raw['key'] !== undefined) record.key = raw['key'] === null ? null : c.string(raw['key'], `${what}.key`, 10_000);
  if (raw['partition'] !== undefined) record.partition = c.integer(raw['partition'], `${what}.partition`, 0, 999);
  if (raw['headers'] !== undefined) record.headers = c.headers(raw['headers'], `${what}.headers`);
  // Measured as the broker measures it, and refused with the broker's own code: the same answer
  // whether the renderer's check or the broker catches it.
  const size = recordBytes(JSON.stringify(record.payload), record.key, record.headers);
  if (size > MAX_RECORD_BYTES) {
    throw new ApiError(
      'MESSAGE_TOO_LARGE',
      `${what === 'request' ? 'the record' : what} is ${size} bytes (payload JSON + key + headers), over the limit of ${MAX_RECORD_BYTES} bytes (1 MiB)`,
    );
  }
  return record;
}

function produceRequest(value: unknown): ProduceRequest {
  const raw = c.object(value, 'request', ['topic', 'key', 'payload', 'partition', 'headers']);
  return { topic: c.topic(raw['topic'], 'request.topic'), ...recordFields(raw, 'request') };
}

function batchRecords(value: unknown): BatchRecord[] {
  if (!Array.isArray(value)) throw invalidArgument('records must be an array');
  if (value.length === 0 || value.length > MAX_BATCH_RECORDS) {
    throw invalidArgument(`records must hold 1 to ${MAX_BATCH_RECORDS} records, got ${value.length}`);
  }
  return value.map((item, i) => recordFields(c.object(item, `records[${i}]`, ['key', 'payload', 'partition', 'headers']), `records[${i}]`));
}

function consumeRequest(value: unknown): ConsumeRequest {
  const raw = c.object(value, 'request', ['topic', 'partition', 'offset', 'max', 'waitMs']);
  const offset = raw['offset'];
  const request: ConsumeRequest = {
    topic: c.topic(raw['topic'], 'request.topic'),
    partition: c.integer(raw['partition'], 'request.partition', 0, 999),
    offset:
      offset === 'earliest' || offset === 'latest'
        ? offset
        : typeof offset === 'number'
          ? c.integer(offset, 'request.offset', 0, Number.MAX_SAFE_INTEGER)
          : (() => {
              throw invalidArgument("request.offset must be a non-negative integer, 'earliest' or 'latest'");
            })(),
  };
  if (raw['max'] !== undefined) request.max = c.integer(raw['max'], 'request.max', 1, 10_000);
  if (raw['waitMs'] !== undefined) request.waitMs = c.integer(raw['waitMs'], 'request.waitMs', 0, 30_000);
  return request;
}

const GROUP_MEMBER_ACTIONS: readonly GroupMemberAction[] = ['stop', 'freeze', 'resume'];
const GROUP_STRATEGIES = ['range', 'roundrobin', 'sticky'] as const;
const MEMBER_NAME_RE = /^member-[1-9][0-9]{0,6}$/;
export const GROUP_MEMBER_LIMITS = { count: { min: 1, max: 8 }, sessionTimeoutMs: { min: 500, max: 60_000 }, processDelayMs: { min: 0, max: 1000 } } as const;

/** A group's name: the characters a topic's name may have (it travels in the URL path /groups/{group}). */
function groupName(value: unknown, what = 'group'): string {
  if (typeof value !== 'string' || !c.TOPIC_RE.test(value)) throw invalidArgument(`${what} must be 1-249 characters of A-Z a-z 0-9 . _ - (not '.' or '..')`);
  return value;
}

function groupMembersRequest(value: unknown): GroupMembersRequest {
  const L = GROUP_MEMBER_LIMITS;
  const raw = c.object(value, 'request', ['group', 'topic', 'count', 'strategy', 'sessionTimeoutMs', 'processDelayMs', 'startFrom']);
  const request: GroupMembersRequest = {
    group: groupName(raw['group'], 'request.group'),
    topic: c.topic(raw['topic'], 'request.topic'),
    count: c.integer(raw['count'], 'request.count', L.count.min, L.count.max),
  };
  if (request.topic.startsWith('__')) throw invalidArgument('request.topic: internal topics (__consumer_offsets) cannot be consumed by a group');
  if (raw['strategy'] !== undefined) request.strategy = c.oneOf(raw['strategy'], 'request.strategy', GROUP_STRATEGIES);
  if (raw['sessionTimeoutMs'] !== undefined) request.sessionTimeoutMs = c.integer(raw['sessionTimeoutMs'], 'request.sessionTimeoutMs', L.sessionTimeoutMs.min, L.sessionTimeoutMs.max);
  if (raw['processDelayMs'] !== undefined) request.processDelayMs = c.integer(raw['processDelayMs'], 'request.processDelayMs', L.processDelayMs.min, L.processDelayMs.max);
  if (raw['startFrom'] !== undefined) request.startFrom = c.oneOf(raw['startFrom'], 'request.startFrom', ['earliest', 'latest'] as const);
  return request;
}

function memberName(value: unknown): string {
  const name = c.string(value, 'name', 64);
  if (!MEMBER_NAME_RE.test(name)) throw invalidArgument("name must be a member's name such as 'member-1'");
  return name;
}

export const VALIDATORS: { [M in ClusterApiCall]: Validator<M> } = {
  getSnapshot: none('getSnapshot'),
  getSettings: none('getSettings'),
  updateSettings: (args) => {
    arity(args, 'updateSettings', 1);
    return [settingsPatch(args[0])];
  },
  startCluster: none('startCluster'),
  stopCluster: none('stopCluster'),
  wipeData: none('wipeData'),
  brokerAction: (args) => {
    arity(args, 'brokerAction', 2);
    return [processName(args[0], 'brokerId'), c.oneOf(args[1], 'action', BROKER_ACTIONS)];
  },
  addBroker: none('addBroker'),
  removeBroker: (args) => {
    arity(args, 'removeBroker', 1);
    return [brokerId(args[0], 'brokerId')];
  },
  processOutput: (args) => {
    arity(args, 'processOutput', 1);
    return [processName(args[0], 'name')];
  },
  simulateFailover: (args) => {
    arity(args, 'simulateFailover', 0, 1);
    return [failoverOptions(args[0])];
  },
  getFailover: none('getFailover'),
  produce: (args) => {
    arity(args, 'produce', 1, 2);
    return [produceRequest(args[0]), produceCallOptions(args[1])];
  },
  produceBatch: (args) => {
    arity(args, 'produceBatch', 2, 3);
    return [c.topic(args[0]), batchRecords(args[1]), produceCallOptions(args[2])];
  },
  cancelCalls: (args) => {
    arity(args, 'cancelCalls', 1);
    return [cancelId(args[0], 'cancelId')];
  },
  consume: (args) => {
    arity(args, 'consume', 1);
    return [consumeRequest(args[0])];
  },
  listTopics: none('listTopics'),
  createTopic: (args) => {
    arity(args, 'createTopic', 2);
    return [c.topic(args[0], 'name'), c.integer(args[1], 'partitions', 1, SETTINGS_LIMITS.partitions.max)];
  },
  setTopicConfig: (args) => {
    arity(args, 'setTopicConfig', 2);
    return [c.topic(args[0], 'name'), topicConfigChange(args[1])];
  },
  produceOnBroker: (args) => {
    arity(args, 'produceOnBroker', 2, 3);
    const timeoutMs = args[2] === undefined ? DIRECT_PRODUCE_TIMEOUT.default : c.integer(args[2], 'timeoutMs', DIRECT_PRODUCE_TIMEOUT.min, DIRECT_PRODUCE_TIMEOUT.max);
    if (!Array.isArray(args[1]) || args[1].length === 0 || args[1].length > MAX_DIRECT_REQUESTS) {
      throw invalidArgument(`requests must be an array of 1 to ${MAX_DIRECT_REQUESTS} produce requests`);
    }
    return [brokerId(args[0], 'brokerId'), args[1].map((r) => produceRequest(r)), timeoutMs];
  },
  startGroupMembers: (args) => {
    arity(args, 'startGroupMembers', 1);
    return [groupMembersRequest(args[0])];
  },
  groupMemberAction: (args) => {
    arity(args, 'groupMemberAction', 2);
    return [memberName(args[0]), c.oneOf(args[1], 'action', GROUP_MEMBER_ACTIONS)];
  },
  stopGroupMembers: (args) => {
    arity(args, 'stopGroupMembers', 1);
    return [groupName(args[0])];
  },
  describeGroup: (args) => {
    arity(args, 'describeGroup', 1);
    return [groupName(args[0])];
  },
  recentEvents: none('recentEvents'),
  kafkaAccess: none('kafkaAccess'),
};
