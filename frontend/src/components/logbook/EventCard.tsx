import { useState } from 'react';
import { Link } from 'react-router';

import { ApiError, apiDelete, apiGet, downloadBlob } from '../../api/client';
import type { EventVersion, LogbookEvent } from '../../api/logbook';
import { editEvent, eventHistory, uploadAttachment } from '../../api/logbook';
import { useApi } from '../../api/useApi';
import { formatBytes, formatDateTime } from '../../lib/format';
import { Editor } from './Editor';

interface Props {
  event: LogbookEvent;
  canWrite: boolean;
  onChanged: (event: LogbookEvent) => void;
  onHidden: (id: number) => void;
  onTag: (tag: string) => void;
}

/** The server's sanitised HTML: the only HTML the portal inserts as such. */
function SafeHtml({ html, className }: { html: string; className: string }) {
  return <div className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}

function History({ id, version }: { id: number; version: number }) {
  const history = useApi<EventVersion[]>(`history-${id}-${version}`, () => eventHistory(id));
  const versions = history.data;
  const error = history.error;
  if (error) return <p role="alert" className="status status-error">Could not load the history: {error.message}</p>;
  if (!versions) return <p className="muted small" role="status">Loading the history…</p>;
  return (
    <ol className="history" aria-label="Versions of this event" data-testid="event-history">
      {versions.map((v) => (
        <li key={v.version} data-testid="event-version" data-version={v.version}>
          <div className="history-head small">
            <strong>Version {v.version}</strong> · {v.author.name} · {formatDateTime(v.written)}
            {v.deleted ? <span className="tag">hidden</span> : null}
          </div>
          <SafeHtml html={v.html} className="event-html" />
        </li>
      ))}
    </ol>
  );
}

function describeError(error: unknown): string {
  if (error instanceof ApiError && error.status === 413) return `too large — ${error.detail}`;
  return error instanceof Error ? error.message : String(error);
}

/** One event: annotations as cards, notifications as compact lines; categories coloured. */
export function EventCard({ event, canWrite, onChanged, onHidden, onTag }: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState({ html: event.html, empty: false });
  const [conflict, setConflict] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [showHistory, setShowHistory] = useState(false);
  const [confirmHide, setConfirmHide] = useState(false);
  const [saving, setSaving] = useState(false);
  const [editorKey, setEditorKey] = useState(0);

  const save = async () => {
    if (draft.empty) {
      setProblem('An event cannot be empty: write something, or hide the event instead.');
      return;
    }
    setSaving(true);
    setProblem(null);
    try {
      onChanged(await editEvent(event, draft.html, event.tags));
      setEditing(false);
      setConflict(false);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) setConflict(true);
      else setProblem(`Could not save: ${describeError(error)}`);
    } finally {
      setSaving(false);
    }
  };

  const reload = async () => {
    try {
      const fresh = await apiGet('/api/logbook/events/{event_id}', { path: { event_id: event.id } });
      onChanged(fresh);
      setDraft({ html: fresh.html, empty: false });
      setEditorKey((k) => k + 1);
      setConflict(false);
    } catch (error) {
      setProblem(`Could not reload: ${describeError(error)}`);
    }
  };

  const attach = async (files: FileList | null) => {
    if (!files?.length) return;
    setProblem(null);
    for (const file of files) {
      try {
        await uploadAttachment(event.id, file);
      } catch (error) {
        setProblem(`Could not attach ${file.name}: ${describeError(error)}`);
      }
    }
    onChanged(await apiGet('/api/logbook/events/{event_id}', { path: { event_id: event.id } }));
  };

  const hide = async () => {
    try {
      await apiDelete(`/api/logbook/events/${event.id}`);
      onHidden(event.id);
    } catch (error) {
      setProblem(`Could not hide: ${describeError(error)}`);
      setConfirmHide(false);
    }
  };

  const label = `${event.type} ${event.sequence}`;
  return (
    <article
      className={`event event-${event.type} category-${event.category}`}
      data-testid="logbook-event"
      data-id={event.id}
      data-sequence={event.sequence}
      data-version={event.version}
      aria-label={`${event.type === 'annotation' ? 'Annotation' : 'Notification'} ${event.sequence} by ${event.author.name}`}
    >
      <header className="event-head">
        <span className="event-seq" title="Sequence number in this logbook">#{event.sequence}</span>
        <span className="event-author">
          {event.author.name}
          {event.author.kind !== 'person' ? <span className="muted small"> ({event.author.kind})</span> : null}
        </span>
        <time dateTime={event.created} className="muted small">
          {formatDateTime(event.created)}
        </time>
        <span className={`tag tag-category-${event.category}`}>{event.category}</span>
        {event.version > 1 ? (
          <span className="muted small" title={`Last edited ${formatDateTime(event.updated)}`}>
            edited (version {event.version})
          </span>
        ) : null}
        {event.dataset ? (
          <Link className="small" to={`/datasets/${event.dataset}`}>
            dataset {event.dataset}
          </Link>
        ) : null}
        {event.tags.map((t) => (
          <button key={t} type="button" className="chip small" onClick={() => onTag(t)} aria-label={`Show events tagged ${t}`}>
            #{t}
          </button>
        ))}
      </header>

      {editing ? (
        <div className="event-edit">
          <Editor
            key={editorKey}
            initial={draft.html}
            label={`Edit ${label}`}
            onChange={(html, empty) => setDraft({ html, empty })}
            onSubmit={() => void save()}
          />
          {conflict ? (
            <div className="status status-error" role="alert" data-testid="edit-conflict">
              <strong>Someone edited this meanwhile:</strong> your change was not saved. Reload to see their version,
              then make your change again.{' '}
              <button type="button" onClick={() => void reload()}>
                Reload this event
              </button>
            </div>
          ) : null}
          <div className="button-row">
            <button type="button" className="button-primary" disabled={saving} onClick={() => void save()}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            <button
              type="button"
              onClick={() => {
                setEditing(false);
                setConflict(false);
                setProblem(null);
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <SafeHtml html={event.html} className="event-html" />
      )}

      {event.attachments?.length ? (
        <ul className="attachments" aria-label="Attachments">
          {(event.attachments ?? []).map((a) => (
            <li key={a.id}>
              <button
                type="button"
                className="link-button"
                onClick={() => downloadBlob(a.url, a.filename).catch((e: Error) => setProblem(`Could not open ${a.filename}: ${e.message}`))}
              >
                📎 {a.filename}
              </button>{' '}
              <span className="muted small">{formatBytes(a.size)}</span>
            </li>
          ))}
        </ul>
      ) : null}

      {problem ? (
        <p className="status status-error" role="alert">
          {problem}
        </p>
      ) : null}

      <div className="event-actions">
        <button
          type="button"
          className="small-button"
          aria-expanded={showHistory}
          onClick={() => setShowHistory((s) => !s)}
          aria-label={`History of ${label}`}
        >
          History
        </button>
        {canWrite && !editing ? (
          <button
            type="button"
            className="small-button"
            onClick={() => {
              setDraft({ html: event.html, empty: false });
              setEditorKey((k) => k + 1);
              setEditing(true);
            }}
            aria-label={`Edit ${label}`}
          >
            Edit
          </button>
        ) : null}
        {canWrite ? (
          <label className="small-button file-button">
            <span>Attach…</span>
            <input
              type="file"
              multiple
              className="visually-hidden"
              aria-label={`Attach files to ${label}`}
              onChange={(e) => {
                void attach(e.target.files);
                e.target.value = '';
              }}
            />
          </label>
        ) : null}
        {canWrite ? (
          confirmHide ? (
            <span className="confirm" role="group" aria-label="Confirm hiding">
              Hide this event? Its history is kept.{' '}
              <button type="button" className="small-button danger" onClick={() => void hide()}>
                Hide
              </button>
              <button type="button" className="small-button" onClick={() => setConfirmHide(false)}>
                Keep
              </button>
            </span>
          ) : (
            <button type="button" className="small-button" onClick={() => setConfirmHide(true)} aria-label={`Hide ${label}`}>
              Hide…
            </button>
          )
        ) : null}
      </div>
      {showHistory ? <History id={event.id} version={event.version} /> : null}
    </article>
  );
}
