import { create } from 'zustand';

/** Ephemeral UI state (not persisted). */
export interface UiState {
  /** Whether the API-key dialog in the header is open. */
  apiKeyDialogOpen: boolean;
  /** Last authentication failure reported by any request (401/403), or null. */
  authError: string | null;
  setApiKeyDialogOpen: (open: boolean) => void;
  setAuthError: (message: string | null) => void;
}

export const useUiStore = create<UiState>()((set) => ({
  apiKeyDialogOpen: false,
  authError: null,
  setApiKeyDialogOpen: (apiKeyDialogOpen) => set({ apiKeyDialogOpen }),
  setAuthError: (authError) => set({ authError }),
}));
