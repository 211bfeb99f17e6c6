import type { ReactNode } from 'react';

export function Stat({ label, value, className, testId, hint }: { label: string; value: ReactNode; className?: string; testId?: string; hint?: ReactNode }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className={`stat-value ${className ?? ''}`.trim()}>{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}
