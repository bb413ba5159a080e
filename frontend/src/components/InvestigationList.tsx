import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { Link } from 'react-router';

import { apiGet } from '../api/client';
import { useInstruments } from '../api/instruments';
import { useApi } from '../api/useApi';
import { formatBytes, formatCount, formatDate, isFuture } from '../lib/format';
import { useUrlQuery } from '../lib/query';
import { Pager } from './Pager';
import { SortHeader } from './SortHeader';
import { Empty, ErrorMessage, Loading } from './Status';

export type Scope = 'mine' | 'open' | 'closed' | 'beamline' | 'all';

interface Props {
  scope: Scope;
  /** What to say when there is nothing to list and no filter is set. */
  empty: ReactNode;
  pageSize?: number;
  /** Only placeholder proposals (waiting for a decision), or only real ones. */
  placeholder?: boolean;
}

/** `2024-03-01` from a date input → the API's date-time at the start of that day (UTC). */
function dayStart(date: string): string | undefined {
  return date ? `${date}T00:00:00Z` : undefined;
}

function Filters({ label }: { label: string }) {
  const query = useUrlQuery();
  const instruments = useInstruments();
  const [text, setText] = useState(query.get('q'));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    query.update({ q: text.trim() || null });
  };
  return (
    <form className="filters" role="search" aria-label={`Filter ${label}`} onSubmit={submit}>
      <label>
        Text
        <input
          type="search"
          name="q"
          value={text}
          placeholder="proposal, title, abstract, person…"
          onChange={(e) => setText(e.target.value)}
          data-testid="investigation-filter-text"
        />
      </label>
      <label>
        Beamline
        <select
          name="instrument"
          value={query.get('instrument')}
          onChange={(e) => query.update({ instrument: e.target.value || null })}
        >
          <option value="">All beamlines</option>
          {instruments.data?.map((i) => (
            <option key={i.id} value={i.name}>
              {i.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Started after
        <input
          type="date"
          name="start_after"
          value={query.get('start_after')}
          onChange={(e) => query.update({ start_after: e.target.value || null })}
        />
      </label>
      <label>
        Started before
        <input
          type="date"
          name="start_before"
          value={query.get('start_before')}
          onChange={(e) => query.update({ start_before: e.target.value || null })}
        />
      </label>
      <button type="submit" className="button button-primary">
        Filter
      </button>
    </form>
  );
}

/** A server-side sorted, filtered and paginated table of investigations. */
export function InvestigationList({ scope, empty, pageSize = 25, placeholder }: Props) {
  const query = useUrlQuery();
  const sort = query.get('sort') || '-start';
  const filters = {
    scope,
    sort,
    limit: pageSize,
    cursor: query.cursor,
    q: query.get('q') || undefined,
    instrument: query.get('instrument') || undefined,
    start_after: dayStart(query.get('start_after')),
    start_before: dayStart(query.get('start_before')),
    placeholder,
  };
  const filtered = Boolean(filters.q || filters.instrument || filters.start_after || filters.start_before);
  const list = useApi(JSON.stringify(filters), (signal) =>
    apiGet('/api/investigations', { query: filters, signal }),
  );

  let body: ReactNode;
  if (list.error) body = <ErrorMessage error={list.error} what="investigations" />;
  else if (!list.data) body = <Loading what="investigations" />;
  else if (list.data.items.length === 0)
    body = filtered ? (
      <Empty>
        No investigation matches these filters. <button type="button" className="link-button" onClick={() => query.update({ q: null, instrument: null, start_after: null, start_before: null })}>Clear the filters</button>
      </Empty>
    ) : (
      <Empty>{empty}</Empty>
    );
  else
    body = (
      <>
        <div className="table-wrap" aria-busy={list.loading}>
          <table className="data-table" data-testid="investigation-table">
            <caption className="visually-hidden">Investigations, sorted by {sort}</caption>
            <thead>
              <tr>
                <SortHeader label="Proposal" field="code" sort={sort} onSort={(s) => query.update({ sort: s })} />
                <th scope="col">Beamline</th>
                <SortHeader label="Start" field="start" sort={sort} onSort={(s) => query.update({ sort: s })} descendingFirst />
                <th scope="col">Title</th>
                <th scope="col" className="num">Volume</th>
                <th scope="col" className="num">Datasets</th>
                <th scope="col">Release</th>
                <th scope="col">DOI</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((inv) => (
                <tr key={inv.id} data-testid="investigation-row" data-code={inv.code}>
                  <td>
                    <Link to={`/investigations/${inv.id}`} className="code">
                      {inv.code}
                    </Link>
                    {inv.placeholder ? <span className="tag">placeholder</span> : null}
                  </td>
                  <td>{inv.instrument}</td>
                  <td className="nowrap">{formatDate(inv.start)}</td>
                  <td className="title-cell">{inv.title}</td>
                  <td className="num nowrap">{formatBytes(inv.volume_bytes)}</td>
                  <td className="num">{formatCount(inv.dataset_count)}</td>
                  <td className="nowrap">
                    {inv.public ? (
                      <span className="tag tag-open">open</span>
                    ) : isFuture(inv.release_date) ? (
                      <span title="Under embargo until this date">{formatDate(inv.release_date)}</span>
                    ) : (
                      formatDate(inv.release_date)
                    )}
                  </td>
                  <td>
                    {inv.doi ? (
                      <a href={`https://doi.org/${inv.doi}`} className="doi">
                        {inv.doi}
                      </a>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager query={query} next={list.data.next} shown={list.data.items.length} label="investigations" />
      </>
    );

  return (
    <section aria-label="Investigations">
      <Filters key={query.get('q')} label="investigations" />
      {body}
    </section>
  );
}
