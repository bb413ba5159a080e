import { useCallback } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';

/**
 * Filters, sort and the page cursor live in the URL query so that every view can be
 * bookmarked and shared. Moving to the next page keeps the cursors of the pages before
 * in the history state, so "Previous" works and the browser's Back button too.
 */
export interface UrlQuery {
  params: URLSearchParams;
  get(name: string): string;
  getAll(name: string): string[];
  /** Change some parameters; any change of filters starts again at the first page. */
  update(changes: Record<string, string | string[] | null>): void;
  cursor: string | null;
  hasPrevious: boolean;
  next(cursor: string): void;
  previous(): void;
}

interface PagerState {
  cursors?: (string | null)[];
}

export function useUrlQuery(): UrlQuery {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const stack = ((location.state as PagerState | null)?.cursors ?? []) as (string | null)[];
  const cursor = params.get('cursor');

  const go = useCallback(
    (next: URLSearchParams, cursors: (string | null)[]) => {
      const search = next.toString();
      navigate({ pathname: location.pathname, search: search ? `?${search}` : '' }, {
        state: { cursors },
      });
    },
    [navigate, location.pathname],
  );

  const update = useCallback(
    (changes: Record<string, string | string[] | null>) => {
      const next = new URLSearchParams(params);
      for (const [name, value] of Object.entries(changes)) {
        next.delete(name);
        if (Array.isArray(value)) value.forEach((v) => next.append(name, v));
        else if (value) next.set(name, value);
      }
      next.delete('cursor');
      go(next, []);
    },
    [params, go],
  );

  return {
    params,
    get: (name) => params.get(name) ?? '',
    getAll: (name) => params.getAll(name),
    update,
    cursor,
    // A bookmarked later page has no stack: "Previous" then goes back to the first page.
    hasPrevious: cursor !== null,
    next: (nextCursor) => {
      const next = new URLSearchParams(params);
      next.set('cursor', nextCursor);
      go(next, [...stack, cursor]);
    },
    previous: () => {
      const next = new URLSearchParams(params);
      const earlier = stack.length ? stack[stack.length - 1] : null;
      if (earlier) next.set('cursor', earlier);
      else next.delete('cursor');
      go(next, stack.slice(0, -1));
    },
  };
}
