/**
 * The data policy's requests as the portal makes them: embargo extensions, DOI requests
 * on collections of datasets, restores from the archive, and a manager's decisions.
 */
import { apiPost } from './client';
import type { DoiRequest, EmbargoExtension, Restore } from './types';

/** A manager's answer to a request, with an optional note to the requester. */
export interface Decision {
  approve: boolean;
  note: string;
}

export function askEmbargoExtension(investigation: number, releaseDate: string, reason: string): Promise<EmbargoExtension> {
  return apiPost<EmbargoExtension>(`/api/investigations/${investigation}/embargo-extensions`, {
    release_date: releaseDate,
    reason,
  });
}

export function askDoi(title: string, description: string, datasets: number[]): Promise<DoiRequest> {
  return apiPost<DoiRequest>('/api/doi-requests', { title, description, datasets });
}

export function askRestore(dataset: number): Promise<Restore> {
  return apiPost<Restore>(`/api/datasets/${dataset}/restore`, {});
}

export type RequestKind = 'embargo-extensions' | 'doi-requests';

export function decide(kind: RequestKind, id: number, decision: Decision): Promise<unknown> {
  return apiPost<unknown>(`/api/${kind}/${id}/decision`, decision);
}
