// Formatting helpers. Money arrives as decimal strings; parse once, display with Intl.

export function toNumber(v: string | number | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function formatMoney(v: string | number | null | undefined, currency = 'USD'): string {
  const n = toNumber(v);
  if (n === null) return '—';
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 2 }).format(n);
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}

export function formatSignedMoney(v: string | number | null | undefined, currency = 'USD'): string {
  const n = toNumber(v);
  if (n === null) return '—';
  const s = formatMoney(Math.abs(n), currency);
  return n > 0 ? `+${s}` : n < 0 ? `-${s}` : s;
}

/** `ratio` is a fraction (0.05 → "5.00%"). */
export function formatPct(ratio: number | null | undefined, digits = 2, signed = false): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  const s = `${(ratio * 100).toFixed(digits)}%`;
  return signed && ratio > 0 ? `+${s}` : s;
}

export function formatNumber(v: string | number | null | undefined, maxDigits = 6): string {
  const n = toNumber(v);
  if (n === null) return typeof v === 'string' && v ? v : '—';
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: maxDigits }).format(n);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZone: 'UTC',
    hour12: false,
  }) + ' UTC';
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${sec}s`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function signClass(v: string | number | null | undefined): string {
  const n = toNumber(v);
  if (n === null || n === 0) return 'neutral';
  return n > 0 ? 'positive' : 'negative';
}

/** Format a stat value from a backtest stats table. */
export function formatStat(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/\.?0+$/, '');
  }
  return String(v);
}

/** ISO timestamp → UNIX seconds (for lightweight-charts). */
export function isoToUnixSeconds(iso: string): number {
  return Math.floor(new Date(iso).getTime() / 1000);
}

/** Decimals an increment implies: "0.00001" → 5, "0.01" → 2, "1E-8" → 8, "0.25" → 2, "1" → 0. */
export function decimalsOf(increment: string | number | null | undefined): number | null {
  const inc = toNumber(increment);
  if (inc === null || inc <= 0) return null;
  for (let d = 0; d <= 12; d++) {
    const scaled = inc * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 12;
}

const CURRENCY_CODE = /^[A-Z]{3}$/;

/**
 * A price to its instrument's increment (EUR-USD: 1.08523), with thousands separators and the
 * quote currency's symbol when it is a currency ("$45,000.00"). Without an increment: 2 decimals
 * from 1 up, more significant digits below.
 */
export function formatPrice(
  v: string | number | null | undefined,
  increment?: string | number | null,
  currency?: string | null,
): string {
  const n = toNumber(v);
  if (n === null) return '—';
  const digits = decimalsOf(increment) ?? (Math.abs(n) >= 1 || n === 0 ? 2 : Math.min(8, 3 - Math.floor(Math.log10(Math.abs(n)))));
  const options: Intl.NumberFormatOptions = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  if (currency && CURRENCY_CODE.test(currency)) {
    try {
      return new Intl.NumberFormat('en-US', { ...options, style: 'currency', currency }).format(n);
    } catch {
      // not an ISO currency (e.g. a crypto quote): plain number below
    }
  }
  return new Intl.NumberFormat('en-US', options).format(n);
}

/** A money axis tick: currency symbol and separators, no cents ("$100,000", "-$2,500"). */
export function formatAxisMoney(v: number, currency = 'USD'): string {
  if (!Number.isFinite(v)) return '';
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 0 }).format(v);
  } catch {
    return new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(v);
  }
}

/** Time left until `iso` from `nowMs`: "4m 05s left", "expired". */
export function formatCountdown(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '—';
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return '—';
  const left = Math.floor((at - nowMs) / 1000);
  if (left <= 0) return 'expired';
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = String(left % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${m}m left` : m > 0 ? `${m}m ${s}s left` : `${left}s left`;
}

/** A backtest statistic by name: durations (seconds) read as "16d 18h 0m", the rest as formatStat. */
export function formatStatByName(name: string, v: unknown): string {
  if (/duration/i.test(name) && typeof v === 'number') return formatDuration(v);
  return formatStat(v);
}

/** How long ago `iso` was, from `nowMs`: "just now", "12s ago", "3m 04s ago", "2h 5m ago". */
export function formatAgo(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return 'never';
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return '—';
  const s = Math.max(0, Math.floor((nowMs - at) / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/**
 * When the agent's next decision is due: "next decision in 4s", "next decision due" (a cycle is
 * late or running), or null when the agent is not running or has not cycled yet.
 */
export function formatNextDecision(
  state: string,
  lastCycleAt: string | null | undefined,
  intervalSeconds: number,
  nowMs: number,
): string | null {
  if (state !== 'running' || !lastCycleAt) return null;
  const at = new Date(lastCycleAt).getTime();
  if (Number.isNaN(at)) return null;
  const left = Math.ceil((at + intervalSeconds * 1000 - nowMs) / 1000);
  if (left <= 0) return 'next decision due';
  if (left < 60) return `next decision in ${left}s`;
  return `next decision in ${Math.floor(left / 60)}m ${String(left % 60).padStart(2, '0')}s`;
}

/**
 * A tick formatter for a time axis spanning `spanMs`: clock time within two days (seconds within
 * ten minutes), else the date — so intraday data never reads "03 Dec" on every tick.
 */
export function timeTickFormatter(spanMs: number): (iso: unknown) => string {
  const opts: Intl.DateTimeFormatOptions =
    spanMs < 10 * 60_000
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }
      : spanMs < 2 * 86_400_000
        ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }
        : { month: 'short', day: '2-digit', timeZone: 'UTC' };
  const fmt = new Intl.DateTimeFormat('en-GB', opts);
  return (iso) => {
    const d = new Date(String(iso));
    return Number.isNaN(d.getTime()) ? String(iso) : fmt.format(d);
  };
}
