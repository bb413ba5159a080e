import { useEffect, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';

import { apiGet, downloadBlob, toQueryString } from '../../api/client';
import type { AuditEntry } from '../../api/types';
import { Empty, ErrorMessage, Loading, Problem } from '../../components/Status';
import { formatDateTime } from '../../lib/format';
import { useUrlQuery } from '../../lib/query';
import { useTitle } from '../../lib/title';

const FILTERS = ['action', 'object_type', 'object_id', 'actor', 'since', 'until'] as const;
type Filter = (typeof FILTERS)[number];
const LABELS: Record<Filter, string> = {
  action: 'Action',
  object_type: 'Object type',
  object_id: 'Object id',
  actor: 'Actor',
  since: 'Since',
  until: 'Until',
};

/** The day after `day` (YYYY-MM-DD), in UTC. */
function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** The filters as the API takes them: `since` from the start of its day, `until` up to the end of its day. */
function apiFilters(values: Record<Filter, string>): Record<Filter, string | undefined> {
  const out = Object.fromEntries(FILTERS.map((f) => [f, values[f] || undefined])) as Record<Filter, string | undefined>;
  if (values.since) out.since = `${values.since}T00:00:00Z`;
  if (values.until) out.until = `${nextDay(values.until)}T00:00:00Z`;
  return out;
}

function Detail({ detail }: { detail: Record<string, unknown> }) {
  const entries = Object.entries(detail);
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <dl className="audit-detail">
      {entries.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The audit trail: who or what did what, when, to which object; filtered, paged, exported. */
export function AuditPanel() {
  useTitle('Audit trail');
  const query = useUrlQuery();
  const values = Object.fromEntries(FILTERS.map((f) => [f, query.get(f)])) as Record<Filter, string>;
  const [form, setForm] = useState(values);
  const key = JSON.stringify(values);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [exportProblem, setExportProblem] = useState<string | null>(null);

  const load = (cursor: string | null, signal?: AbortSignal) => {
    setLoading(true);
    setError(null);
    return apiGet('/api/audit', { query: { ...apiFilters(values), limit: 100, cursor }, signal }).then(
      (page) => {
        setItems((before) => (cursor ? [...before, ...page.items] : page.items));
        setNext(page.next ?? null);
        setLoading(false);
      },
      (e: Error) => {
        if (e.name === 'AbortError') return;
        setError(e);
        setLoading(false);
      },
    );
  };

  useEffect(() => {
    setForm(values);
    const controller = new AbortController();
    setItems([]);
    void load(null, controller.signal);
    return () => controller.abort();
    // `values` is rebuilt each render from the URL; `key` says when it changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    query.update(Object.fromEntries(FILTERS.map((f) => [f, form[f].trim() || null])));
  };
  const exportAs = (format: 'csv' | 'json') => {
    setExportProblem(null);
    downloadBlob(`/api/audit/export${toQueryString({ ...apiFilters(values), format })}`, `audit.${format}`).catch((e: Error) =>
      setExportProblem(`Could not export: ${e.message}`),
    );
  };

  let body: ReactNode;
  if (error && items.length === 0) body = <ErrorMessage error={error} what="the audit trail" />;
  else if (loading && items.length === 0) body = <Loading what="the audit trail" />;
  else if (items.length === 0) body = <Empty>No audit record matches these filters.</Empty>;
  else
    body = (
      <>
        <div className="table-wrap" aria-busy={loading}>
          <table className="data-table" data-testid="audit-table">
            <caption className="visually-hidden">Audit records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Object</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} data-testid="audit-row" data-action={r.action}>
                  <td className="nowrap">{formatDateTime(r.at)}</td>
                  <td>{r.actor}</td>
                  <td>
                    <span className="tag">{r.action}</span>
                  </td>
                  <td className="nowrap">
                    {r.object_type} <span className="code">{r.object_id}</span>
                  </td>
                  <td>
                    <Detail detail={r.detail} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {error ? <ErrorMessage error={error} what="more audit records" /> : null}
        {next ? (
          <button type="button" className="more-button" onClick={() => void load(next)} disabled={loading} data-testid="audit-more">
            {loading ? 'Loading…' : 'Show more'}
          </button>
        ) : (
          <p className="muted small timeline-end">{items.length} records: the end of the trail for these filters.</p>
        )}
      </>
    );

  return (
    <section aria-label="Audit trail" data-testid="audit-page">
      <form className="filters" role="search" aria-label="Filter the audit trail" onSubmit={submit}>
        {FILTERS.map((f) => (
          <label key={f}>
            {LABELS[f]}
            <input
              type={f === 'since' || f === 'until' ? 'date' : 'text'}
              value={form[f]}
              onChange={(e) => setForm({ ...form, [f]: e.target.value })}
              data-testid={`audit-${f}`}
            />
          </label>
        ))}
        <button type="submit" className="button button-primary">
          Filter
        </button>
      </form>
      <div className="exports">
        <span className="muted small">Export what these filters select:</span>
        <button type="button" onClick={() => exportAs('csv')} data-testid="audit-export-csv">
          Export CSV
        </button>
        <button type="button" onClick={() => exportAs('json')}>
          Export JSON
        </button>
        <Problem text={exportProblem} />
      </div>
      {body}
    </section>
  );
}
