// `npm run web`: build the UI if needed, then run the web host (src/main/web.ts) through tsx in
// this very process, so Ctrl+C and SIGTERM reach the host's own shutdown handlers directly.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { ensureUiBuilt, root } from './ensure-ui-built.mjs';

if (process.env.YAK_SKIP_UI_BUILD !== '1') ensureUiBuilt();
register();
await import(pathToFileURL(join(root, 'src', 'main', 'web.ts')).href);
