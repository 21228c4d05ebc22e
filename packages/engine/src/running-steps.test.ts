import { describe, expect, it } from 'vitest';
import { RunningSteps } from './running-steps.js';

describe('RunningSteps', () => {
  it('hands each registered step a live signal and counts the steps', () => {
    const running = new RunningSteps();
    const a = running.register('step-a');
    running.register('step-b');
    expect(a.aborted).toBe(false);
    expect(running.has('step-a')).toBe(true);
    expect(running.size).toBe(2);
  });

  it('stops one step with the reason as the abort reason, leaving the others running', () => {
    const running = new RunningSteps();
    const a = running.register('step-a');
    const b = running.register('step-b');
    expect(running.stop('step-a', 'cancel')).toBe(true);
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe('cancel');
    expect(b.aborted).toBe(false);
  });

  it('says false when asked to stop a step it does not run', () => {
    const running = new RunningSteps();
    expect(running.stop('elsewhere', 'cancel')).toBe(false);
    const signal = running.register('step-a');
    running.unregister('step-a');
    expect(running.has('step-a')).toBe(false);
    expect(running.size).toBe(0);
    expect(running.stop('step-a', 'cancel')).toBe(false);
    expect(signal.aborted).toBe(false);
  });

  it('stops every running step on shutdown and reports how many', () => {
    const running = new RunningSteps();
    const signals = ['step-a', 'step-b', 'step-c'].map((id) => running.register(id));
    expect(running.stopAll('shutdown')).toBe(3);
    expect(signals.map((signal) => [signal.aborted, signal.reason])).toEqual([
      [true, 'shutdown'],
      [true, 'shutdown'],
      [true, 'shutdown'],
    ]);
    expect(new RunningSteps().stopAll('shutdown')).toBe(0);
  });

  it('keeps the first reason when a step is stopped twice', () => {
    const running = new RunningSteps();
    const signal = running.register('step-a');
    running.stop('step-a', 'cancel');
    running.stopAll('shutdown');
    expect(signal.reason).toBe('cancel');
  });

  it('keeps a newer registration when an older handler unregisters with its own signal', () => {
    const running = new RunningSteps();
    const first = running.register('step-a');
    const second = running.register('step-a');
    running.unregister('step-a', first);
    expect(running.has('step-a')).toBe(true);
    running.stop('step-a', 'cancel');
    expect(second.aborted).toBe(true);
    running.unregister('step-a', second);
    expect(running.has('step-a')).toBe(false);
  });
});
