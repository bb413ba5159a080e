import type { Editor as TipTap } from '@tiptap/react';
import { useEffect, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { Link, useParams } from 'react-router';

import { ApiError, apiGet, downloadBlob } from '../api/client';
import type { LogbookEvent, LogbookTarget } from '../api/logbook';
import { CATEGORIES, EVENT_TYPES, postAnnotation, targetQuery, uploadAttachment } from '../api/logbook';
import type { Investigation } from '../api/types';
import { useApi } from '../api/useApi';
import { useSession } from '../auth/session';
import { Editor } from '../components/logbook/Editor';
import { EventCard } from '../components/logbook/EventCard';
import type { Timeline, TimelineFilters } from '../components/logbook/useTimeline';
import { MAX_PAGES, PAGE, useTimeline } from '../components/logbook/useTimeline';
import { Empty, ErrorMessage, Loading } from '../components/Status';
import { formatCount } from '../lib/format';
import { useUrlQuery } from '../lib/query';
import { useTitle } from '../lib/title';

/** A button that loads more events when it scrolls into view (or when pressed). */
function MoreButton({ label, busy, onLoad, root }: { label: string; busy: boolean; onLoad: () => void; root: HTMLElement | null }) {
  const ref = useRef<HTMLButtonElement>(null);
  const load = useRef(onLoad);
  load.current = onLoad;
  useEffect(() => {
    const button = ref.current;
    if (!button || !root) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && load.current(), {
      root,
      rootMargin: '400px 0px',
    });
    observer.observe(button);
    return () => observer.disconnect();
  }, [root]);
  return (
    <button ref={ref} type="button" className="more-button" onClick={onLoad} disabled={busy}>
      {busy ? 'Loading…' : label}
    </button>
  );
}

function Filters({ query }: { query: ReturnType<typeof useUrlQuery> }) {
  const [text, setText] = useState(query.get('q'));
  const [tag, setTag] = useState(query.get('tag'));
  const [date, setDate] = useState(query.get('date'));
  useEffect(() => {
    setText(query.get('q'));
    setTag(query.get('tag'));
    setDate(query.get('date'));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query.params.toString()]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    query.update({ q: text.trim() || null, tag: tag.trim() || null, date: date || null });
  };
  const dataset = query.get('dataset');
  return (
    <form className="filters logbook-filters" onSubmit={submit} role="search" aria-label="Filter the logbook">
      <label>
        Text
        <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Words in the events…" />
      </label>
      <label>
        Type
        <select value={query.get('type')} onChange={(e) => query.update({ type: e.target.value || null })}>
          <option value="">all</option>
          {EVENT_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}s
            </option>
          ))}
        </select>
      </label>
      <label>
        Category
        <select value={query.get('category')} onChange={(e) => query.update({ category: e.target.value || null })}>
          <option value="">all</option>
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label>
        Tag
        <input value={tag} onChange={(e) => setTag(e.target.value)} size={10} placeholder="e.g. alignment" />
      </label>
      <label>
        Jump to date
        <input type="date" value={date} onChange={(e) => setDate(e.target.value)} />
      </label>
      <button type="submit" className="button-primary">
        Apply
      </button>
      {dataset ? (
        <button type="button" className="chip" onClick={() => query.update({ dataset: null })} aria-label={`Remove the filter on dataset ${dataset}`}>
          dataset {dataset} ✕
        </button>
      ) : null}
      {query.params.toString() ? (
        <button type="button" className="link-button" onClick={() => query.update({ q: null, type: null, category: null, tag: null, date: null, dataset: null })}>
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

function Composer({ target, dataset, timeline }: { target: LogbookTarget; dataset: number | null; timeline: Timeline }) {
  const [draft, setDraft] = useState({ html: '', empty: true });
  const [tags, setTags] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [problem, setProblem] = useState<ReactNode>(null);
  const [posting, setPosting] = useState(false);
  const editor = useRef<TipTap | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const post = async () => {
    if (draft.empty) {
      setProblem('Write something first: the annotation is empty.');
      return;
    }
    setPosting(true);
    setProblem(null);
    try {
      const tagList = tags.split(',').map((t) => t.trim()).filter(Boolean);
      let event: LogbookEvent = await postAnnotation(target, draft.html, tagList, dataset);
      const failed: string[] = [];
      for (const file of files) {
        try {
          await uploadAttachment(event.id, file);
        } catch (error) {
          const detail = error instanceof ApiError && error.status === 413 ? `too large — ${error.detail}` : (error as Error).message;
          failed.push(`${file.name}: ${detail}`);
        }
      }
      if (files.length) event = await apiGet('/api/logbook/events/{event_id}', { path: { event_id: event.id } });
      timeline.add(event);
      editor.current?.commands.clearContent(true);
      setTags('');
      setFiles([]);
      if (failed.length)
        setProblem(
          <>
            The annotation was posted, but not every attachment: {failed.join('; ')}. Attach smaller files with “Attach…” on
            the event.
          </>,
        );
    } catch (error) {
      setProblem(`Could not post the annotation: ${(error as Error).message}`);
    } finally {
      setPosting(false);
    }
  };

  return (
    <section className="card composer" aria-labelledby="composer-title">
      <h2 id="composer-title">Write in the logbook</h2>
      <Editor label="New annotation" onChange={(html, empty) => setDraft({ html, empty })} onReady={(e) => (editor.current = e)} onSubmit={() => void post()} />
      <div className="composer-row">
        <label>
          Tags (comma-separated)
          <input value={tags} onChange={(e) => setTags(e.target.value)} placeholder="alignment, sample 3" />
        </label>
        <label>
          Attachments
          <input ref={fileInput} type="file" multiple onChange={(e) => setFiles([...(e.target.files ?? [])])} />
        </label>
        <button type="button" className="button-primary" disabled={posting} onClick={() => void post()} data-testid="logbook-post">
          {posting ? 'Posting…' : 'Post annotation'}
        </button>
      </div>
      {dataset ? <p className="muted small">The annotation is linked to dataset {dataset}.</p> : null}
      {problem ? (
        <p className="status status-error" role="alert" data-testid="composer-problem">
          {problem}
        </p>
      ) : null}
    </section>
  );
}

function Exports({ target }: { target: LogbookTarget }) {
  const [problem, setProblem] = useState<string | null>(null);
  const name = ('investigation' in target ? target.investigation : target.instrument).replace(/[^\w.-]/g, '_');
  const query = new URLSearchParams(targetQuery(target)).toString();
  const get = (suffix: 'html' | 'pdf') =>
    downloadBlob(`/api/logbook/export.${suffix}?${query}`, `logbook-${name}.${suffix}`).catch((e: Error) =>
      setProblem(`Could not export: ${e.message}`),
    );
  return (
    <div className="exports" role="group" aria-label="Export the logbook">
      <button type="button" onClick={() => void get('html')}>
        Export HTML
      </button>
      <button type="button" onClick={() => void get('pdf')}>
        Export PDF
      </button>
      {problem ? (
        <span className="status-error small" role="alert">
          {problem}
        </span>
      ) : null}
    </div>
  );
}

function TimelineView({ timeline, canWrite, onTag, filtered }: { timeline: Timeline; canWrite: boolean; onTag: (t: string) => void; filtered: boolean }) {
  const [root, setRoot] = useState<HTMLDivElement | null>(null);
  let body: ReactNode;
  if (timeline.error && !timeline.events.length) body = <ErrorMessage error={timeline.error} what="the logbook" />;
  else if (timeline.loading) body = <Loading what="the logbook" />;
  else if (!timeline.events.length)
    body = (
      <Empty>
        {filtered
          ? 'No event matches these filters. Change or clear them above.'
          : 'The logbook is empty. Notifications appear here as the beamline registers datasets; write the first annotation above.'}
      </Empty>
    );
  else
    body = (
      <>
        {timeline.hasNewer ? <MoreButton label="Newer events" busy={timeline.busy === 'newer'} onLoad={timeline.loadNewer} root={root} /> : null}
        <ol className="timeline" aria-label="Events, newest first">
          {timeline.events.map((event) => (
            <li key={event.id}>
              <EventCard event={event} canWrite={canWrite} onChanged={timeline.replace} onHidden={timeline.remove} onTag={onTag} />
            </li>
          ))}
        </ol>
        {timeline.hasOlder ? (
          <MoreButton label="Older events" busy={timeline.busy === 'older'} onLoad={timeline.loadOlder} root={root} />
        ) : (
          <p className="muted small timeline-end">The beginning of the logbook.</p>
        )}
      </>
    );
  return (
    <div className="timeline-scroll" ref={setRoot} data-testid="logbook-timeline" aria-busy={timeline.loading || timeline.busy !== null}>
      {body}
    </div>
  );
}

function LogbookView({ target, title, canWrite, back }: { target: LogbookTarget; title: ReactNode; canWrite: boolean; back: ReactNode }) {
  const query = useUrlQuery();
  const dataset = Number(query.get('dataset')) || undefined;
  const date = query.get('date');
  const filters: TimelineFilters = {
    type: query.get('type') || undefined,
    category: query.get('category') || undefined,
    tag: query.get('tag') || undefined,
    q: query.get('q') || undefined,
    dataset,
    around: /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : undefined,
  };
  const timeline = useTimeline(target, filters);
  const filtered = Object.values(filters).some((v) => v !== undefined);
  return (
    <article data-testid="logbook-page">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        {back}
      </nav>
      <div className="card-heading">
        <h1>{title}</h1>
        <Exports target={target} />
      </div>
      <Filters query={query} />
      {canWrite ? <Composer target={target} dataset={dataset ?? null} timeline={timeline} /> : null}
      <div className="timeline-status">
        <span role="status" className={`stream stream-${timeline.stream}`} data-testid="stream-state">
          {timeline.stream === 'live' ? '● live' : timeline.stream === 'connecting' ? 'connecting…' : 'connection lost — reconnecting…'}
        </span>
        <span className="muted small">
          {formatCount(timeline.events.length)} {timeline.events.length === 1 ? 'event' : 'events'} loaded (at most {formatCount(PAGE * MAX_PAGES)} at a time; scroll for more)
        </span>
        {timeline.pending ? (
          <button type="button" className="chip" onClick={timeline.reload} data-testid="pending-events">
            {timeline.pending} new {timeline.pending === 1 ? 'event' : 'events'} — show the newest
          </button>
        ) : null}
        {timeline.error && timeline.events.length ? (
          <span role="alert" className="status-error small">
            {timeline.error.message}
          </span>
        ) : null}
      </div>
      <TimelineView timeline={timeline} canWrite={canWrite} onTag={(tag) => query.update({ tag })} filtered={filtered} />
    </article>
  );
}

/** `/investigations/:id/logbook`: the investigation's logbook. */
export function InvestigationLogbookPage() {
  const { id = '' } = useParams();
  const { user, ready } = useSession();
  const inv = useApi<Investigation>(ready ? `logbook-investigation-${id}-${user.username}` : null, (signal) =>
    apiGet('/api/investigations/{ref}', { path: { ref: id }, signal }),
  );
  useTitle(inv.data ? `Logbook of ${inv.data.code}` : 'Logbook');
  if (inv.error) return <ErrorMessage error={inv.error} what={`investigation ${id}`} />;
  if (!inv.data) return <Loading what="the logbook" />;
  const data = inv.data;
  const canWrite =
    !user.anonymous &&
    (user.role === 'manager' ||
      (user.role === 'staff' && user.instruments.includes(data.instrument)) ||
      data.participants.some((p) => p.username === user.username));
  return (
    <LogbookView
      key={data.id}
      target={{ investigation: String(data.id) }}
      canWrite={canWrite}
      title={
        <>
          Logbook of <span className="code">{data.code}</span>
        </>
      }
      back={
        <>
          <Link to={`/investigations/${data.id}`}>
            {data.code} {data.title}
          </Link>{' '}
          › logbook
        </>
      }
    />
  );
}

/** `/beamlines/:name/logbook`: a beamline's own logbook, for its staff. */
export function BeamlineLogbookPage() {
  const { name = '' } = useParams();
  const { user, ready, isManager } = useSession();
  useTitle(`Logbook of ${name}`);
  if (!ready) return <Loading what="your account" />;
  if (user.anonymous)
    return (
      <Empty>
        <Link to={`/login?next=${encodeURIComponent(`/beamlines/${name}/logbook`)}`}>Log in</Link> as staff of {name} to read its
        logbook.
      </Empty>
    );
  const staff = isManager || (user.role === 'staff' && user.instruments.includes(name));
  if (!staff) {
    const error = new ApiError(403, `the logbook of ${name} belongs to its staff`);
    return <ErrorMessage error={error} what={`the logbook of ${name}`} />;
  }
  return (
    <LogbookView
      key={name}
      target={{ instrument: name }}
      canWrite
      title={<>Logbook of beamline {name}</>}
      back={
        <>
          <Link to="/beamlines">My Beamlines</Link> › {name}
        </>
      }
    />
  );
}
