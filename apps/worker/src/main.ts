#!/usr/bin/env node
import { runWorkerProcess } from './run-worker-process.js';

await runWorkerProcess(process.env);
