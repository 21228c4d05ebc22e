#!/usr/bin/env node
// Writes schema/step-spec.v1.json from the built zod schema. Run after `pnpm build`.
import { writeFileSync } from 'node:fs';
import { stepSpecJsonSchema } from '../dist/index.js';

const target = new URL('../schema/step-spec.v1.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(stepSpecJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
