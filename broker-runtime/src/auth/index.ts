export { AuthFileError, loadAuthFile, parseAuthFile } from './auth-file.js';
export { AuthGate, OPEN_GATE, type Action, type Direction, type Gate } from './gate.js';
export { maySee, PRINCIPAL_NAME, type AuthTable, type Principal } from './principal.js';
export { hashSecret, parseSecretHash, verifySecret, SCRYPT_DEFAULTS } from './secret-hash.js';
export { TokenBucket } from './token-bucket.js';
export { TopicPatterns } from './topic-pattern.js';
