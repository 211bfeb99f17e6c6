import { describe, expect, it } from 'vitest';
import { drawdownTick } from './DrawdownChart';

describe('drawdownTick', () => {
  it('shows enough digits to tell shallow ticks apart', () => {
    expect(drawdownTick(0)).toBe('0%');
    expect(drawdownTick(-0.0025)).toBe('-0.25%');
    expect(drawdownTick(-0.005)).toBe('-0.50%');
    expect(drawdownTick(-0.01)).toBe('-1.0%');
    expect(drawdownTick(-0.25)).toBe('-25%');
  });
});
