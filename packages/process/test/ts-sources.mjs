// Loaded with `--import` by the child processes of the tests: with --experimental-strip-types,
// node runs src/*.ts as they are, but they import each other as `./x.js` (NodeNext), which
// exists only in dist/. Resolving those to the .ts beside them tests the source, not a stale build.
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const source = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(fileURLToPath(source))) return nextResolve(source.href, context);
    }
    return nextResolve(specifier, context);
  },
});
