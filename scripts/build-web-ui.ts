/** build-web-ui bundles web/ui/src into dist/web/ui (run by `npm run build`). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWebUi } from '../pkg/api/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web', 'ui');
const { js, css } = await bundleWebUi(root);
await mkdir(out, { recursive: true });
await writeFile(join(out, 'app.js'), js);
await writeFile(join(out, 'app.css'), css);
process.stdout.write(`web UI: wrote ${out}/app.js (${js.length} bytes) and app.css (${css.length} bytes)\n`);
