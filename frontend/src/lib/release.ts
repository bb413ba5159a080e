import type { Investigation } from '../api/types';
import { formatDate } from './format';

/** Whether the investigation's data is open: the pass released it, or its release date has passed. */
export function isReleased(inv: Investigation): boolean {
  return inv.released !== null || inv.public;
}

/** "open data since 2024-03-01", "embargo until 2027-06-30", "closed: no release date". */
export function releaseText(inv: Investigation): string {
  if (isReleased(inv)) {
    const since = inv.released ?? inv.release_date;
    return since ? `open data since ${formatDate(since)}` : 'open data';
  }
  if (!inv.release_date) return 'closed: no release date';
  return `embargo until ${formatDate(inv.release_date)}`;
}
