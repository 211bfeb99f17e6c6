import { describe, expect, it } from 'vitest';
import { divergingColor, maxAbs } from './scale';

describe('diverging scale', () => {
  it('colours negative red, positive green and zero neutral', () => {
    expect(divergingColor(0, 2)).toBe('rgb(90, 96, 110)');
    expect(divergingColor(-2, 2)).toBe('rgb(200, 55, 55)');
    expect(divergingColor(2, 2)).toBe('rgb(40, 160, 90)');
    expect(divergingColor(-9, 2)).toBe('rgb(200, 55, 55)'); // clamped
  });

  it('gives equal magnitudes equal intensity on either side', () => {
    const [r1] = divergingColor(-1, 2).match(/\d+/g) ?? [];
    const [, g2] = divergingColor(1, 2).match(/\d+/g) ?? [];
    expect(Number(r1) - 90).toBe(Math.round((200 - 90) / 2));
    expect(Number(g2) - 96).toBe(Math.round((160 - 96) / 2));
  });

  it('is neutral without a scale, and maxAbs ignores gaps', () => {
    expect(divergingColor(1, 0)).toBe('rgb(90, 96, 110)');
    expect(maxAbs([null, -3, 2, Number.NaN, undefined])).toBe(3);
    expect(maxAbs([])).toBe(0);
  });
});
