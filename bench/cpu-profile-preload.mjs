// Loaded into each broker with NODE_OPTIONS=--import (bench --profile): Node 20 refuses --cpu-prof in
// NODE_OPTIONS, and the test helpers that start brokers take no node flags. Same result as
// --cpu-prof: a .cpuprofile (open in Chrome DevTools or speedscope) written when the broker exits
// cleanly (SIGTERM); a SIGKILLed broker writes nothing.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.YAK_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // An in-thread session answers synchronously, so the profile can be taken inside 'exit'.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  session.post('Profiler.start');
  const i = process.argv.indexOf('--id');
  const id = i >= 0 ? process.argv[i + 1] : 'broker';
  let part = 0;
  const write = (suffix) => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${id}-${process.pid}${suffix}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on('exit', () => write(''));
  // SIGUSR2 cuts the profile: what ran since the start (or the last cut) is written as
  // <id>-<pid>-cut<N>.cpuprofile and a new profile begins, so a script can profile one phase
  // (bench/kafka-profile.ts) instead of the broker's whole life.
  process.on('SIGUSR2', () => {
    write(`-cut${++part}`);
    session.post('Profiler.start');
  });
}
