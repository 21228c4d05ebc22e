// Dependency rules of `pnpm lint` (root task `lint:deps`): no import cycle, each external library
// only in the package that owns it, and the control plane never reaching Docker.
/** @type {import('dependency-cruiser').IConfiguration} */

/** Each external system's library and the packages that own it (docs/design.md, "Layout"). */
const OWNERS = {
  kysely: ['db'],
  pg: ['db'],
  bullmq: ['queue'],
  ioredis: ['queue', 'stream'],
  dockerode: ['sandbox'],
  pino: ['logging'],
  'prom-client': ['metrics'],
};
/** The root system tests inspect containers and jobs directly; nothing else of theirs is exempt. */
const TESTS_MAY_IMPORT = new Set(['dockerode', 'bullmq']);

const ownership = Object.entries(OWNERS).map(([library, owners]) => ({
  name: `only-${owners.join('-and-')}-imports-${library}`,
  severity: 'error',
  comment: `Only @sandfleet/${owners.join(' and @sandfleet/')} import ${library}: go through that package.`,
  from: {
    path: TESTS_MAY_IMPORT.has(library) ? '^(apps|packages)/' : '^(apps|packages|test)/',
    pathNot: `^packages/(${owners.join('|')})/`,
  },
  // A resolved import ends in node_modules/<library>/…; one that a package cannot resolve (the
  // library is not its dependency) is the bare name.
  to: { path: `(^|node_modules/)(@types/)?${library}($|/)` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Dependencies point one way (contracts → config/logging → db/queue/stream/sandbox → apps); ' +
        'a cycle, between files or between packages, means one side belongs elsewhere.',
      from: {},
      to: { circular: true },
    },
    ...ownership,
    {
      name: 'control-plane-never-loads-docker',
      severity: 'error',
      comment:
        'The API and the step use cases run without Docker: they reach steps through @sandfleet/steps ' +
        '(test/api-process-imports.test.ts proves it at run time).',
      from: { path: '^(apps/api|packages/steps)/' },
      to: { path: '^packages/(engine|sandbox)/|(^|node_modules/)(@types/)?(dockerode|docker-modem)($|/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    // Type-only imports count: a cycle of types is still two modules that depend on each other.
    tsPreCompilationDeps: true,
    // `@sandfleet/<name>` resolves to that package's src/index.ts (tsconfig.depcruise.json
    // `paths`), not to its built dist/: a cycle that runs through packages (`db` → `queue` → `db`)
    // is then a cycle of files like any other, and the check needs no build.
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.mts', '.js', '.mjs'],
      conditionNames: ['types', 'import', 'default'],
    },
  },
};
