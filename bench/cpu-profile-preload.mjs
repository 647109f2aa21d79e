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
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${id}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
