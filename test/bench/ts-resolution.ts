import { registerHooks } from 'node:module';

/**
 * Lets Node's type stripping load the test support files, which import each other as `./x.js`
 * (the spelling `tsc` wants) while only `./x.ts` exists: a relative `.js` import that is not
 * found is tried again as `.ts`. Register it before importing anything from `../support`.
 */
export function resolveTsFromJs(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (error) {
        const relative = specifier.startsWith('./') || specifier.startsWith('../');
        if (
          !relative ||
          !specifier.endsWith('.js') ||
          (error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND'
        )
          throw error;
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
    },
  });
}
