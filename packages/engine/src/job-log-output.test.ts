import { describe, expect, it } from 'vitest';
import { JOB_LOG_OUTPUT_BYTES, logOutputToJob, outputTailLines } from './job-log-output.js';

describe('outputTailLines', () => {
  it('splits output into lines without a trailing empty line', () => {
    expect(outputTailLines('a\nb\n')).toEqual(['a', 'b']);
    expect(outputTailLines('a\n\nb')).toEqual(['a', '', 'b']);
    expect(outputTailLines('')).toEqual([]);
  });

  it('keeps only the last bytes, starting on a whole character and marking the cut line', () => {
    const lines = outputTailLines('ééééé\nend\n', 8);
    expect(lines).toEqual(['…é', 'end']);
    expect(outputTailLines('x'.repeat(JOB_LOG_OUTPUT_BYTES * 2)).join('')).toHaveLength(
      JOB_LOG_OUTPUT_BYTES + 1,
    );
  });
});

describe('logOutputToJob', () => {
  it('logs a header then every line in order', async () => {
    const logged: string[] = [];
    const output = Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`).join('\n');
    await logOutputToJob({ log: async (line) => void logged.push(line) }, output);
    expect(logged[0]).toMatch(/^--- output: \d+ bytes ---$/);
    expect(logged.slice(1)).toEqual(output.split('\n'));
  });
});
