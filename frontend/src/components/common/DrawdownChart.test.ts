import { describe, expect, it } from 'vitest';
import { drawdownTick, spanMs } from './DrawdownChart';

describe('drawdownTick', () => {
  it('shows enough digits to tell shallow ticks apart', () => {
    expect(drawdownTick(0)).toBe('0%');
    expect(drawdownTick(-0.0025)).toBe('-0.25%');
    expect(drawdownTick(-0.005)).toBe('-0.50%');
    expect(drawdownTick(-0.01)).toBe('-1.0%');
    expect(drawdownTick(-0.25)).toBe('-25%');
  });
});

describe('spanMs', () => {
  it('measures the time an axis spans', () => {
    expect(spanMs(['2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z', 'bad'])).toBe(600_000);
    expect(spanMs(['2026-01-01T00:00:00Z'])).toBe(0);
  });
});
