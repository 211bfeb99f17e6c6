import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { useUiStore } from '../stores/ui';
import { isApiError } from './client';

function noteAuthError(error: unknown) {
  if (isApiError(error) && error.isAuthError) {
    useUiStore.getState().setAuthError(error.detail || 'Unauthorized');
  }
}

/** Query client used by the app: no retries on 4xx, one retry on other failures. */
export function createQueryClient(opts: { retry?: boolean } = {}): QueryClient {
  const retryEnabled = opts.retry ?? true;
  return new QueryClient({
    queryCache: new QueryCache({ onError: noteAuthError }),
    mutationCache: new MutationCache({ onError: noteAuthError }),
    defaultOptions: {
      queries: {
        staleTime: 2_000,
        refetchOnWindowFocus: true,
        retry: (failureCount, error) => {
          if (!retryEnabled) return false;
          if (isApiError(error) && error.status >= 400 && error.status < 500) return false;
          return failureCount < 1;
        },
        retryDelay: 1_000,
      },
      mutations: { retry: false },
    },
  });
}
