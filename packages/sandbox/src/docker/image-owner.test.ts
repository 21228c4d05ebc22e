import { describe, expect, it } from 'vitest';
import { imageOwner } from './image-owner.js';

describe('imageOwner', () => {
  it.each([
    [undefined, 0, 0],
    ['', 0, 0],
    ['root', 0, 0],
    ['0:0', 0, 0],
    ['1000:1000', 1000, 1000],
    ['1234', 1234, 1234],
    ['1234:50', 1234, 50],
    ['agent', 1000, 1000],
    ['agent:agent', 1000, 1000],
    ['root:staff', 0, 1000],
  ])('maps user %s to %i:%i', (user, uid, gid) => {
    expect(imageOwner(user)).toEqual({ uid, gid });
  });
});
