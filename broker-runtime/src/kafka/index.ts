export type { KafkaAddress, KafkaAuth, KafkaBackend, KafkaClusterView } from './backend.js';
export { createKafkaServer, type KafkaListener, type KafkaListenerOptions } from './server.js';
