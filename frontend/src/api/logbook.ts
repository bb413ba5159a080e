/**
 * The logbook's calls beyond plain GETs: writing, editing, hiding, attachments, and the
 * live stream read with fetch, so the session token travels in `Authorization` (an
 * EventSource cannot send headers) and a dropped connection resumes with Last-Event-ID.
 */
import { apiGet, apiPost, apiPut, apiUpload, authHeaders } from './client';
import type { components } from './schema';

type Schemas = components['schemas'];
export type LogbookEvent = Schemas['EventOut'];
export type EventVersion = Schemas['VersionOut'];
export type Attachment = Schemas['AttachmentOut'];
export type LogbookStats = Schemas['LogbookStats'];

/** Whose logbook: an investigation's (id or code) or a beamline's (its name). */
export type LogbookTarget = { investigation: string } | { instrument: string };

export const EVENT_TYPES = ['annotation', 'notification'] as const;
export const CATEGORIES = ['info', 'error', 'debug', 'commandLine', 'comment'] as const;

export function targetQuery(target: LogbookTarget): Record<string, string> {
  return 'investigation' in target ? { investigation: target.investigation } : { instrument: target.instrument };
}

export function postAnnotation(
  target: LogbookTarget,
  html: string,
  tags: string[],
  dataset: number | null,
): Promise<LogbookEvent> {
  return apiPost<LogbookEvent>('/api/logbook/events', {
    ...targetQuery(target),
    type: 'annotation',
    format: 'html',
    content: html,
    tags,
    dataset,
  });
}

/** A new version of the event; `version` is the one the edit started from (409 if stale). */
export function editEvent(event: LogbookEvent, html: string, tags: string[]): Promise<LogbookEvent> {
  return apiPut<LogbookEvent>(`/api/logbook/events/${event.id}`, {
    version: event.version,
    content: html,
    format: 'html',
    tags,
  });
}

export function eventHistory(id: number): Promise<EventVersion[]> {
  return apiGet('/api/logbook/events/{event_id}/history', { path: { event_id: id } });
}

export function uploadAttachment(eventId: number, file: File): Promise<Attachment> {
  return apiUpload<Attachment>(`/api/logbook/events/${eventId}/attachments`, file);
}

export type StreamState = 'connecting' | 'live' | 'reconnecting';

interface StreamOptions {
  target: LogbookTarget;
  /** The sequence number to resume after. */
  after: number;
  onEvent: (event: LogbookEvent, kind: string) => void;
  onState: (state: StreamState) => void;
  signal: AbortSignal;
}

/** The sequence number of the logbook's newest event (0 for an empty logbook). */
export async function newestSequence(target: LogbookTarget, signal: AbortSignal): Promise<number> {
  const page = await apiGet('/api/logbook/events', { query: { ...targetQuery(target), limit: 1 }, signal });
  return page.items[0]?.sequence ?? 0;
}

/**
 * Follow the logbook's server-sent events until `signal` aborts; after a drop, wait the
 * server's `retry` and reconnect with Last-Event-ID set to the last sequence seen.
 */
export async function followLogbook({ target, after, onEvent, onState, signal }: StreamOptions): Promise<void> {
  let last = after;
  let retry = 1000;
  const query = new URLSearchParams(targetQuery(target)).toString();
  onState('connecting');
  while (!signal.aborted) {
    try {
      const response = await fetch(`/api/logbook/stream?${query}`, {
        headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(last), ...authHeaders() },
        signal,
      });
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      onState('live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id = '';
          let kind = 'message';
          const data: string[] = [];
          for (const line of message.split('\n')) {
            if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('event:')) kind = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            else if (line.startsWith('retry:')) retry = Number(line.slice(6)) || retry;
          }
          if (data.length) {
            onEvent(JSON.parse(data.join('\n')) as LogbookEvent, kind);
            if (/^\d+$/.test(id)) last = Number(id);
          }
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      void error;
    }
    if (signal.aborted) return;
    onState('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, retry));
  }
}
