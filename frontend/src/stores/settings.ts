import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

/** UI state that survives a reload (kept in localStorage). */
export interface SettingsState {
  /** Value sent as `X-API-Key`; empty string means "no key". */
  apiKey: string;
  /** Instrument the dashboard/optimization pages focus on; empty means "all"/first available. */
  selectedInstrument: string;
  /** Last backtest job submitted from the Optimization page, so a reload keeps showing it. */
  lastBacktestJobId: string | null;
  setApiKey: (key: string) => void;
  setSelectedInstrument: (symbol: string) => void;
  setLastBacktestJobId: (id: string | null) => void;
}

export const SETTINGS_STORAGE_KEY = 'ffe-dashboard-settings';

export const useSettingsStore = create<SettingsState>()(
  persist(
    (set) => ({
      apiKey: '',
      selectedInstrument: '',
      lastBacktestJobId: null,
      setApiKey: (apiKey) => set({ apiKey: apiKey.trim() }),
      setSelectedInstrument: (selectedInstrument) => set({ selectedInstrument }),
      setLastBacktestJobId: (lastBacktestJobId) => set({ lastBacktestJobId }),
    }),
    {
      name: SETTINGS_STORAGE_KEY,
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({
        apiKey: s.apiKey,
        selectedInstrument: s.selectedInstrument,
        lastBacktestJobId: s.lastBacktestJobId,
      }),
    },
  ),
);
