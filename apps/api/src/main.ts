#!/usr/bin/env node
import { runApiProcess } from './run-api-process.js';

await runApiProcess(process.env);
