import { describe, expect, it } from 'vitest';
import { OutputDemuxer } from './output-demuxer.js';

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function joined(pieces: { stream: string; data: Buffer }[]) {
  return pieces.map((piece) => `${piece.stream}:${piece.data.toString()}`);
}

describe('OutputDemuxer', () => {
  it('splits whole frames into tagged pieces', () => {
    const demuxer = new OutputDemuxer();
    expect(joined(demuxer.push(Buffer.concat([frame(1, 'out'), frame(2, 'err')])))).toEqual([
      'stdout:out',
      'stderr:err',
    ]);
    expect(demuxer.atBoundary).toBe(true);
  });

  it('reassembles frames split at every possible byte, in order', () => {
    const stream = Buffer.concat([frame(1, 'hello'), frame(2, 'oops'), frame(1, 'world')]);
    for (let cut = 1; cut < stream.length; cut++) {
      const demuxer = new OutputDemuxer();
      const pieces = [...demuxer.push(stream.subarray(0, cut)), ...demuxer.push(stream.subarray(cut))];
      const byStream = (name: string) =>
        pieces
          .filter((piece) => piece.stream === name)
          .map((piece) => piece.data.toString())
          .join('');
      expect(byStream('stdout')).toBe('helloworld');
      expect(byStream('stderr')).toBe('oops');
      expect(demuxer.atBoundary).toBe(true);
    }
  });

  it('drops stdin frames and reports a half-read frame', () => {
    const demuxer = new OutputDemuxer();
    expect(joined(demuxer.push(Buffer.concat([frame(0, 'echo'), frame(1, 'ok')])))).toEqual(['stdout:ok']);
    demuxer.push(frame(1, 'cut short').subarray(0, 10));
    expect(demuxer.atBoundary).toBe(false);
  });
});
