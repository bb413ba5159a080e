import { apiGet } from './client';
import type { Instrument } from './types';
import { useApi } from './useApi';

let cached: Promise<Instrument[]> | null = null;

/** Every beamline (one request per page load; the list is short and rarely changes). */
export function loadInstruments(): Promise<Instrument[]> {
  cached ??= apiGet('/api/instruments', { query: { limit: 1000 } }).then(
    (page) => page.items,
    (error: unknown) => {
      cached = null;
      throw error;
    },
  );
  return cached;
}

export function useInstruments() {
  return useApi('instruments', () => loadInstruments());
}
