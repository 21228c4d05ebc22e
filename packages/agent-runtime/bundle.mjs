// Bundles the runtime's entry point with what it imports (@sandfleet/contracts and zod) into one
// self-contained ES module, dist/image/main.js: the image carries no node_modules, and
// infra/images/build-agent-runtime.sh stages dist/image/ into it.
//
// @sandfleet/contracts is read from its source, not its dist/: the build script builds this
// package alone, and the image must never carry a protocol older than the source it was built from.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

await build({
  entryPoints: [fileURLToPath(new URL('src/main.ts', import.meta.url))],
  outfile: fileURLToPath(new URL('dist/image/main.js', import.meta.url)),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  alias: { '@sandfleet/contracts': fileURLToPath(new URL('../contracts/src/index.ts', import.meta.url)) },
  logLevel: 'warning',
});
