#!/usr/bin/env node
// A yak-broker launcher for tests of brokers that reach each other by NAME: every name ending in
// `.yak.test` (RFC 2606 keeps .test for tests) resolves to 127.0.0.1 in this process, as a
// docker-compose service name resolves to a container. Other names resolve as usual.
import dns from 'node:dns';
import { main } from '../../broker-runtime/dist/cli.js';

const TEST_SUFFIX = '.yak.test';
const realLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof hostname !== 'string' || !hostname.toLowerCase().replace(/\.$/, '').endsWith(TEST_SUFFIX)) {
    return realLookup.call(dns, hostname, options, callback);
  }
  const cb = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all;
  process.nextTick(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
  return undefined;
};

main(process.argv.slice(2), process.env).catch((err) => {
  console.error(`yak-broker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
