export { main, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './main.js';
export type { Io } from './io.js';
