import type { TradingMode } from '../../api/models';

/** Prominent PAPER / LIVE badge. LIVE is red so nobody mistakes real money for a simulation. */
export function ModeBadge({ mode, size = 'normal' }: { mode: TradingMode | null | undefined; size?: 'normal' | 'large' }) {
  const label = mode ? mode.toUpperCase() : 'UNKNOWN';
  const cls = mode === 'live' ? 'mode-live' : mode === 'paper' ? 'mode-paper' : 'mode-unknown';
  return (
    <span
      className={`mode-badge ${cls} ${size === 'large' ? 'mode-badge-large' : ''}`.trim()}
      data-testid="mode-badge"
      data-mode={mode ?? 'unknown'}
      title={mode === 'live' ? 'Live trading: real orders, real money' : mode === 'paper' ? 'Paper trading: simulated orders' : 'Mode unknown'}
    >
      {label}
    </span>
  );
}
