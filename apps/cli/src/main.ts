#!/usr/bin/env node
import { CommanderError } from 'commander';
import { createProgram } from './program.js';

/** Usage errors (unknown option, bad argument) exit 2, like invalid input elsewhere in the CLI. */
const EXIT_USAGE = 2;

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
}
