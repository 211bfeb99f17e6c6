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

/** Drawdown series (fractions ≤ 0) from an equity series. */
export function drawdownFromEquity(points: { ts: string; equity: number }[]): { ts: string; drawdown: number }[] {
  let peak = -Infinity;
  return points.map((p) => {
    peak = Math.max(peak, p.equity);
    return { ts: p.ts, drawdown: peak > 0 ? p.equity / peak - 1 : 0 };
  });
}
