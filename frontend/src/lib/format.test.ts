import { describe, expect, it } from 'vitest';
import {
  decimalsOf,
  formatAgo,
  formatAxisMoney,
  formatCountdown,
  formatDuration,
  formatMoney,
  formatPct,
  formatPrice,
  formatSignedMoney,
  formatStat,
  formatNextDecision,
  formatStatByName,
  timeTickFormatter,
} from './format';

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
});

describe('desk formats', () => {
  it('shows prices to the instrument increment with the quote currency', () => {
    expect(decimalsOf('0.00001')).toBe(5);
    expect(decimalsOf('1E-8')).toBe(8);
    expect(decimalsOf('0.25')).toBe(2);
    expect(decimalsOf('1')).toBe(0);
    expect(decimalsOf(null)).toBeNull();
    expect(formatPrice('1.085234', '0.00001', 'USD')).toBe('$1.08523');
    expect(formatPrice('45000', '0.01', 'USD')).toBe('$45,000.00');
    expect(formatPrice('45000', '0.01', 'USDT')).toBe('45,000.00');
    expect(formatPrice('0.000123', null)).toBe('0.0001230');
    expect(formatPrice(null, '0.01')).toBe('—');
  });

  it('labels money axes with the currency and separators', () => {
    expect(formatAxisMoney(100000)).toBe('$100,000');
    expect(formatAxisMoney(-2500.4)).toBe('-$2,500');
    expect(formatAxisMoney(1234, 'EUR')).toBe('€1,234');
  });

  it('counts down to an expiry', () => {
    const now = Date.parse('2026-01-01T03:00:00Z');
    expect(formatCountdown('2026-01-01T03:04:05Z', now)).toBe('4m 05s left');
    expect(formatCountdown('2026-01-01T03:00:09Z', now)).toBe('9s left');
    expect(formatCountdown('2026-01-01T05:30:00Z', now)).toBe('2h 30m left');
    expect(formatCountdown('2026-01-01T02:59:00Z', now)).toBe('expired');
    expect(formatCountdown(null, now)).toBe('—');
  });

  it('reads backtest durations as days and hours', () => {
    expect(formatStatByName('Max. Drawdown Duration', 1447200)).toBe('16d 18h 0m');
    expect(formatStatByName('Sharpe Ratio', 1.23456)).toBe('1.2346');
  });

  it('says how long ago the last cycle was', () => {
    const now = Date.parse('2026-01-01T03:00:00Z');
    expect(formatAgo(null, now)).toBe('never');
    expect(formatAgo('2026-01-01T03:00:00Z', now)).toBe('just now');
    expect(formatAgo('2026-01-01T02:59:48Z', now)).toBe('12s ago');
    expect(formatAgo('2026-01-01T02:56:56Z', now)).toBe('3m 04s ago');
    expect(formatAgo('2026-01-01T00:55:00Z', now)).toBe('2h 5m ago');
  });

  it('counts down to the next decision only while the agent runs', () => {
    const last = '2026-01-01T00:00:00Z';
    const t = new Date(last).getTime();
    expect(formatNextDecision('running', last, 30, t + 26_000)).toBe('next decision in 4s');
    expect(formatNextDecision('running', last, 300, t)).toBe('next decision in 5m 00s');
    expect(formatNextDecision('running', last, 5, t + 9_000)).toBe('next decision due');
    expect(formatNextDecision('stopped', last, 5, t)).toBeNull();
    expect(formatNextDecision('running', null, 5, t)).toBeNull();
  });

  it('picks time-axis ticks by the span shown', () => {
    const iso = '2026-12-03T14:05:09Z';
    expect(timeTickFormatter(60_000)(iso)).toBe('14:05:09');
    expect(timeTickFormatter(6 * 3_600_000)(iso)).toBe('14:05');
    expect(timeTickFormatter(30 * 86_400_000)(iso)).toBe('03 Dec');
  });
});
