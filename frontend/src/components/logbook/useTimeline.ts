import { useCallback, useEffect, useRef, useState } from 'react';

import { apiGet } from '../../api/client';
import type { LogbookEvent, LogbookTarget, StreamState } from '../../api/logbook';
import { followLogbook, newestSequence, targetQuery } from '../../api/logbook';

export const PAGE = 50;
// At most this many pages stay loaded (and in the DOM); the far end is dropped and
// loaded again from its cursor when the reader scrolls back.
export const MAX_PAGES = 6;

export interface TimelineFilters {
  type?: string;
  category?: string;
  tag?: string;
  q?: string;
  dataset?: number;
  /** Jump to this date (ISO). */
  around?: string;
}

interface Chunk {
  items: LogbookEvent[];
  next: string | null;
  previous: string | null;
}

export interface Timeline {
  events: LogbookEvent[];
  loading: boolean;
  error: Error | undefined;
  /** More events are newer than the first shown (the view is not at the newest). */
  hasNewer: boolean;
  hasOlder: boolean;
  busy: 'newer' | 'older' | null;
  loadNewer: () => void;
  loadOlder: () => void;
  /** New events that arrived live but are not shown (filtered by text, or not at the newest). */
  pending: number;
  reload: () => void;
  stream: StreamState;
  /** Show an event just written here, without waiting for the stream. */
  add: (event: LogbookEvent) => void;
  replace: (event: LogbookEvent) => void;
  remove: (id: number) => void;
}

function matches(event: LogbookEvent, filters: TimelineFilters): boolean {
  if (event.deleted) return false;
  if (filters.type && event.type !== filters.type) return false;
  if (filters.category && event.category !== filters.category) return false;
  if (filters.tag && !event.tags.includes(filters.tag)) return false;
  if (filters.dataset && event.dataset !== filters.dataset) return false;
  return true;
}

/**
 * A window onto a logbook of any size: pages of events loaded both ways from the server's
 * cursors, a bounded number kept, and new events from the live stream put on top when
 * the reader is at the newest.
 */
export function useTimeline(target: LogbookTarget, filters: TimelineFilters): Timeline {
  const [chunks, setChunks] = useState<Chunk[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState<'newer' | 'older' | null>(null);
  const [pending, setPending] = useState(0);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify([target, filters, generation]);
  const query = {
    ...targetQuery(target),
    type: filters.type,
    category: filters.category,
    tag: filters.tag,
    q: filters.q,
    dataset: filters.dataset,
    limit: PAGE,
  };
  // The stream's handler reads the latest state through refs.
  const state = useRef({ chunks, filters });
  state.current = { chunks, filters };

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    setPending(0);
    apiGet('/api/logbook/events', { query: { ...query, around: filters.around }, signal: controller.signal }).then(
      (page) => {
        setChunks([{ items: page.items, next: page.next ?? null, previous: page.previous ?? null }]);
        setLoading(false);
      },
      (e: Error) => {
        if (controller.signal.aborted) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => controller.abort();
    // `key` holds every input.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const loadMore = useCallback(
    (direction: 'newer' | 'older') => {
      const current = state.current.chunks;
      if (busy || !current.length) return;
      const cursor = direction === 'newer' ? current[0].previous : current[current.length - 1].next;
      if (!cursor) return;
      setBusy(direction);
      apiGet('/api/logbook/events', { query: { ...query, cursor } }).then(
        (page) => {
          const chunk = { items: page.items, next: page.next ?? null, previous: page.previous ?? null };
          setChunks((before) => {
            if (direction === 'newer') {
              const joined = [chunk, ...before];
              return joined.length > MAX_PAGES ? joined.slice(0, MAX_PAGES) : joined;
            }
            const joined = [...before, chunk];
            return joined.length > MAX_PAGES ? joined.slice(joined.length - MAX_PAGES) : joined;
          });
          setBusy(null);
        },
        (e: Error) => {
          setError(e);
          setBusy(null);
        },
      );
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [busy, key],
  );

  const add = useCallback((event: LogbookEvent) => {
    const { chunks: current, filters: now } = state.current;
    const atNewest = current.length === 0 || current[0].previous === null;
    const shown = current.some((c) => c.items.some((e) => e.id === event.id));
    if (shown) {
      setChunks((before) =>
        before.map((c) => ({ ...c, items: c.items.map((e) => (e.id === event.id ? event : e)) })),
      );
      return;
    }
    if (!matches(event, now)) return;
    if (!atNewest || now.q || now.around) {
      setPending((n) => n + 1);
      return;
    }
    setChunks((before) => {
      if (!before.length) return [{ items: [event], next: null, previous: null }];
      const [first, ...rest] = before;
      const items = [event, ...first.items].sort((a, b) => b.sequence - a.sequence);
      return [{ ...first, items }, ...rest];
    });
  }, []);

  const replace = useCallback((event: LogbookEvent) => {
    setChunks((before) => before.map((c) => ({ ...c, items: c.items.map((e) => (e.id === event.id ? event : e)) })));
  }, []);

  const remove = useCallback((id: number) => {
    setChunks((before) => before.map((c) => ({ ...c, items: c.items.filter((e) => e.id !== id) })));
  }, []);

  // The live stream: from the newest sequence when the page opened, resumed after drops.
  const targetKey = JSON.stringify(target);
  useEffect(() => {
    const controller = new AbortController();
    newestSequence(target, controller.signal)
      .then((after) =>
        followLogbook({
          target,
          after,
          signal: controller.signal,
          onState: setStream,
          onEvent: (event, kind) => (kind === 'deleted' ? remove(event.id) : add(event)),
        }),
      )
      .catch(() => {
        if (!controller.signal.aborted) setStream('reconnecting');
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [targetKey]);

  return {
    events: chunks.flatMap((c) => c.items),
    loading,
    error,
    hasNewer: chunks.length > 0 && chunks[0].previous !== null,
    hasOlder: chunks.length > 0 && chunks[chunks.length - 1].next !== null,
    busy,
    loadNewer: () => loadMore('newer'),
    loadOlder: () => loadMore('older'),
    pending,
    reload: () => setGeneration((g) => g + 1),
    stream,
    add,
    replace,
    remove,
  };
}
