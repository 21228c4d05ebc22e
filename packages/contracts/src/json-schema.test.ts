import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STEP_SPEC_SCHEMA_ID, stepSpecJsonSchema } from './json-schema.js';
import { AGENT_ID_PATTERN, StepSpec } from './step-spec.js';

type Node = { [key: string]: unknown };

const committed = JSON.parse(
  readFileSync(new URL('../schema/step-spec.v1.json', import.meta.url), 'utf8'),
) as Node;
const schema = stepSpecJsonSchema() as Node;
const properties = schema.properties as Record<string, Node>;
const base = { agentId: 'agent-1', command: ['true'] };

/** Every `pattern` of a string node, its own and those under `allOf`, as Unicode ECMA-262 regexes. */
function patternsOf(node: Node): RegExp[] {
  const nodes = [node, ...((node.allOf as Node[] | undefined) ?? [])];
  return nodes.flatMap((n) => (typeof n.pattern === 'string' ? [new RegExp(n.pattern, 'u')] : []));
}

/** What the JSON Schema says of a string value: its patterns, `not` patterns and length bounds. */
function jsonAccepts(node: Node, value: string): boolean {
  const min = typeof node.minLength === 'number' ? node.minLength : 0;
  const max = typeof node.maxLength === 'number' ? node.maxLength : Number.POSITIVE_INFINITY;
  const length = [...value].length;
  const not = node.not as Node | undefined;
  return (
    length >= min &&
    length <= max &&
    patternsOf(node).every((re) => re.test(value)) &&
    !(not && patternsOf(not).some((re) => re.test(value)))
  );
}

function allPatterns(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(allPatterns);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'pattern' && typeof value === 'string' ? [value] : allPatterns(value),
  );
}

describe('step-spec.v1.json', () => {
  it('is the schema generated from the zod StepSpec', () => {
    expect(
      committed,
      'schema/step-spec.v1.json is stale: run `pnpm --filter @sandfleet/contracts build` then `pnpm --filter @sandfleet/contracts generate` and commit it',
    ).toEqual(schema);
  });

  it('is a draft 2020-12 schema with the public $id, closed to unknown fields', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(STEP_SPEC_SCHEMA_ID);
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['agentId', 'command']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('states the agentId pattern of the contract', () => {
    expect(properties.agentId).toEqual({ type: 'string', pattern: AGENT_ID_PATTERN.source });
  });

  it('has only patterns that compile as Unicode ECMA-262 regexes', () => {
    const patterns = allPatterns(schema);
    expect(patterns.length).toBeGreaterThan(10);
    for (const pattern of patterns) expect(() => new RegExp(pattern, 'u')).not.toThrow();
  });

  it('has no lookaround or octal escape, so RE2-based validators (Go, Rust) compile it too', () => {
    for (const pattern of allPatterns(schema)) {
      expect(pattern).not.toMatch(/\(\?<?[=!]/);
      expect(pattern).not.toMatch(/\\0/);
    }
  });
});

const filesItems = (properties.files?.items ?? {}) as Node;
const filePath = ((filesItems.properties ?? {}) as Record<string, Node>).path ?? {};

/** [field, JSON Schema node of its strings, spec carrying a sample, samples] */
const fields: [string, Node, (value: string) => unknown, string[]][] = [
  [
    'agentId',
    properties.agentId ?? {},
    (agentId) => ({ ...base, agentId }),
    ['a', 'agent-1', 'a_b', 'A', '-a', 'a'.repeat(63), 'a'.repeat(64), 'a b', ''],
  ],
  [
    'id',
    properties.id ?? {},
    (id) => ({ ...base, id }),
    ['step-1', 'S.1', '42', 'a..b', 'x.lock', 'x.', '.x', 'a:b'],
  ],
  ['runId', properties.runId ?? {}, (runId) => ({ ...base, runId }), ['42', 'run_1', 'r..1', 'r.lock']],
  [
    'files[].path',
    filePath,
    (path) => ({ ...base, files: [{ path, content: '' }] }),
    ['a', '.persona/x.md', '...', 'a/..b', '../x', '/etc', 'a//b', 'a/', './a', 'a/./b', 'a\\b', '', 'a\0b'],
  ],
  [
    'image',
    properties.image ?? {},
    (image) => ({ ...base, image }),
    ['busybox', 'r.io:5000/a/b:V1', 'Sandfleet/x', `a@sha256:${'0'.repeat(64)}`, 'a@bad', 'a b', ''],
  ],
  [
    'env names',
    (properties.env?.propertyNames ?? {}) as Node,
    (name) => ({ ...base, env: { [name]: 'x' } }),
    ['PATH', '_x', 'lower', '1A', 'A-B', 'SANDFLEET_X', 'sandfleet_y', 'SANDFLEETX'],
  ],
  [
    'secret names',
    (properties.secrets?.items ?? {}) as Node,
    (name) => ({ ...base, secrets: [name] }),
    ['TOKEN', '_T', 'token', 'SANDFLEET_T', 'A-B'],
  ],
];

describe('step-spec.v1.json and the zod StepSpec', () => {
  it.each(fields)('agree on which %s values are valid', (_field, node, specWith, samples) => {
    expect(patternsOf(node).length).toBeGreaterThan(0);
    for (const sample of samples) {
      const zod = StepSpec.safeParse(specWith(sample)).success;
      expect({ sample, json: jsonAccepts(node, sample) }).toEqual({ sample, json: zod });
    }
  });
});
