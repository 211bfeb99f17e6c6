import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { useSettingsStore } from '../stores/settings';
import { useUiStore } from '../stores/ui';
import { server } from './server';

// lightweight-charts draws on <canvas>, which jsdom lacks; a tiny fake keeps the component testable.
vi.mock('lightweight-charts', () => {
  const series = { setData: vi.fn(), applyOptions: vi.fn() };
  const chart = {
    addSeries: vi.fn(() => series),
    remove: vi.fn(),
    timeScale: vi.fn(() => ({ fitContent: vi.fn() })),
    applyOptions: vi.fn(),
  };
  return {
    createChart: vi.fn(() => chart),
    AreaSeries: { type: 'Area' },
    LineSeries: { type: 'Line' },
    ColorType: { Solid: 'solid', VerticalGradient: 'gradient' },
  };
});

class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= ResizeObserverStub as unknown as typeof ResizeObserver;
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}

// jsdom does no layout, so recharts' ResponsiveContainer measures 0×0 and warns; that is expected here.
const originalWarn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('The width(0) and height(0) of chart')) return;
  originalWarn(...args);
};

const initialSettings = useSettingsStore.getState();
const initialUi = useUiStore.getState();

// The test box is slow and shared: give findBy*/waitFor more than the default 1 s.
configure({ asyncUtilTimeout: 5_000 });

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  // Warm the lazily loaded pages so the first render of a route does not race the module loader.
  await Promise.all([
    import('../pages/AgentControlPage'),
    import('../pages/AnalyticsPage'),
    import('../pages/OptimizationPage'),
  ]);
});
afterEach(() => {
  cleanup();
  server.resetHandlers();
  localStorage.clear();
  useSettingsStore.setState(initialSettings, true);
  useUiStore.setState(initialUi, true);
});
afterAll(() => server.close());
