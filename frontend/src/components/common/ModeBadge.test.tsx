import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ModeBadge } from './ModeBadge';

describe('ModeBadge', () => {
  it.each([
    ['paper', 'PAPER', 'mode-paper'],
    ['live', 'LIVE', 'mode-live'],
  ] as const)('shows %s mode', (mode, label, cls) => {
    render(<ModeBadge mode={mode} />);
    const badge = screen.getByTestId('mode-badge');
    expect(badge).toHaveTextContent(label);
    expect(badge).toHaveClass(cls);
    expect(badge).toHaveAttribute('data-mode', mode);
  });

  it('shows UNKNOWN before the mode is known', () => {
    render(<ModeBadge mode={undefined} />);
    expect(screen.getByTestId('mode-badge')).toHaveTextContent('UNKNOWN');
  });
});
