export type { BrokerConfig, RedisSentinelAddress } from './types.js';
export { parseConfig, ConfigError, DEFAULTS, isLoopback, answeredHostNames, type ParsedArgs } from './parse.js';
export { helpText } from './help.js';
export { FLAGS, type FlagSpec } from './flags.js';
export { outboundTls, serverTlsOptions, type OutboundTls, type PemFile, type ServerTls } from './tls.js';
export { redactUrl } from './values.js';
export { defaultNodeId } from './node-id.js';
