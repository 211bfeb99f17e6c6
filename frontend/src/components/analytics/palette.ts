const PALETTE = ['#38bdf8', '#a78bfa', '#f59e0b', '#22c55e', '#f472b6', '#ef4444', '#14b8a6', '#eab308', '#818cf8', '#fb923c'];

export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}
