// Colour scales for charts and tables.

export const NEGATIVE = [200, 55, 55] as const; // red
export const NEUTRAL = [90, 96, 110] as const; // grey
export const POSITIVE = [40, 160, 90] as const; // green

function mix(a: readonly number[], b: readonly number[], t: number): string {
  const c = a.map((x, i) => Math.round(x + ((b[i] ?? x) - x) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/**
 * A diverging colour centred on zero: negative values red, positive green, zero neutral grey; the
 * intensity is |value| / maxAbs, so the same magnitude looks the same on either side.
 */
export function divergingColor(value: number, maxAbs: number): string {
  if (!Number.isFinite(value) || value === 0 || !(maxAbs > 0)) return mix(NEUTRAL, NEUTRAL, 0);
  const t = Math.min(1, Math.abs(value) / maxAbs);
  return mix(NEUTRAL, value < 0 ? NEGATIVE : POSITIVE, t);
}

/** The largest magnitude among finite values (the scale's end on both sides), 0 when none. */
export function maxAbs(values: readonly (number | null | undefined)[]): number {
  return values.reduce<number>((m, v) => (typeof v === 'number' && Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
}
