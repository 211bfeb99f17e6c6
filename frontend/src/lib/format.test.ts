import { describe, expect, it } from 'vitest';
import { drawdownFromEquity, formatDuration, formatMoney, formatPct, formatSignedMoney, formatStat } from './format';

describe('format helpers', () => {
  it('formats money, signed money and percentages', () => {
    expect(formatMoney('1234.5')).toBe('$1,234.50');
    expect(formatMoney(null)).toBe('—');
    expect(formatSignedMoney('-3')).toBe('-$3.00');
    expect(formatSignedMoney('3')).toBe('+$3.00');
    expect(formatPct(0.0525)).toBe('5.25%');
    expect(formatPct(0.01, 1, true)).toBe('+1.0%');
  });

  it('formats durations and stats', () => {
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(3725)).toBe('1h 2m 5s');
    expect(formatDuration(90000)).toBe('1d 1h 0m');
    expect(formatStat(1.23456789)).toBe('1.2346');
    expect(formatStat(4)).toBe('4');
    expect(formatStat(null)).toBe('—');
  });

  it('computes drawdown from an equity curve', () => {
    const dd = drawdownFromEquity([
      { ts: 'a', equity: 100 },
      { ts: 'b', equity: 110 },
      { ts: 'c', equity: 99 },
    ]);
    expect(dd.map((p) => Number(p.drawdown.toFixed(3)))).toEqual([0, 0, -0.1]);
  });
});
