import { useEffect, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';

import { apiGet } from '../api/client';
import type { FacetCount } from '../api/types';
import { useApi } from '../api/useApi';
import { useSession } from '../auth/session';
import { DatasetTable } from '../components/DatasetTable';
import { Pager } from '../components/Pager';
import { Empty, ErrorMessage, Loading } from '../components/Status';
import type { Column, ColumnConfig } from '../lib/columns';
import { columnsFor, loadColumnConfig } from '../lib/columns';
import { formatCount, humanise } from '../lib/format';
import { useUrlQuery } from '../lib/query';
import { useTitle } from '../lib/title';

const EXAMPLES = ['energy > 7 keV', 'wavelength < 1 nm', 'pipeline ~ nabu', 'sample_temperature <= 100 K'];

/** The parameter a condition names: `energy > 7 keV` → energy. */
function conditionName(condition: string): string {
  return condition.trim().split(/\s*(?:!=|<=|>=|=|<|>|~)\s*/)[0] ?? '';
}

interface FacetProps {
  name: string;
  label: string;
  counts: FacetCount[];
  selected: string;
  onSelect: (value: string | null) => void;
}

/** One facet: its values with counts; choosing one filters, choosing it again clears it. */
function Facet({ name, label, counts, selected, onSelect }: FacetProps) {
  return (
    <fieldset className="facet" data-testid={`facet-${name}`}>
      <legend>{label}</legend>
      {counts.length === 0 ? <p className="muted small">none</p> : null}
      <ul>
        {counts.map((c) => (
          <li key={c.value}>
            <button
              type="button"
              className="facet-value"
              aria-pressed={selected === c.value}
              onClick={() => onSelect(selected === c.value ? null : c.value)}
              data-value={c.value}
            >
              <span className="facet-name">{c.value}</span>
              <span className="count" data-testid="facet-count">
                {formatCount(c.count)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

export function SearchPage() {
  useTitle('Search');
  const query = useUrlQuery();
  const { user, ready } = useSession();
  const [config, setConfig] = useState<ColumnConfig | null>(null);
  useEffect(() => {
    loadColumnConfig().then(setConfig);
  }, []);
  const [text, setText] = useState(query.get('q'));
  const [condition, setCondition] = useState('');
  useEffect(() => setText(query.get('q')), [query.params]); // eslint-disable-line react-hooks/exhaustive-deps

  const year = query.get('year');
  const conditions = query.getAll('param');
  const filters = {
    q: query.get('q') || undefined,
    instrument: query.get('instrument') || undefined,
    technique: query.get('technique') || undefined,
    type: query.get('type') || undefined,
    start_after: year ? `${year}-01-01T00:00:00Z` : undefined,
    start_before: year ? `${Number(year) + 1}-01-01T00:00:00Z` : undefined,
    param: conditions.length ? conditions : undefined,
  };
  const sort = query.get('sort') || '-start';
  const key = ready ? `${user.username}-${JSON.stringify(filters)}` : null;
  const facets = useApi(key, (signal) => apiGet('/api/datasets/facets', { query: filters, signal }));
  const list = useApi(key && `${key}-${sort}-${query.cursor}`, (signal) =>
    apiGet('/api/datasets', { query: { ...filters, sort, limit: 50, cursor: query.cursor }, signal }),
  );

  const submitText = (event: FormEvent) => {
    event.preventDefault();
    query.update({ q: text.trim() || null });
  };
  const addCondition = (event: FormEvent) => {
    event.preventDefault();
    const value = condition.trim();
    if (!value) return;
    if (!conditions.includes(value)) query.update({ param: [...conditions, value] });
    setCondition('');
  };

  // Columns: the parameters the conditions name, then those of the chosen technique.
  let columns: Column[] = conditions.map((c) => ({ parameter: conditionName(c), label: humanise(conditionName(c)) }));
  if (config && list.data && filters.technique) {
    const more = columnsFor(config, filters.technique, filters.type ?? 'raw', list.data.items);
    columns = [...columns, ...more.filter((m) => !columns.some((c) => c.parameter === m.parameter))];
  }

  let results: ReactNode;
  if (list.error) results = <ErrorMessage error={list.error} what="the datasets" />;
  else if (!list.data) results = <Loading what="datasets" />;
  else if (list.data.items.length === 0)
    results = (
      <Empty>
        No dataset matches. Loosen a condition, clear a facet, or try other words
        {user.anonymous ? ' — or log in to search your own data' : ''}.
      </Empty>
    );
  else
    results = (
      <>
        <DatasetTable
          datasets={list.data.items}
          columns={columns}
          sort={sort}
          onSort={(s) => query.update({ sort: s })}
          showInvestigation
          caption="Datasets matching the search"
        />
        <Pager query={query} next={list.data.next} shown={list.data.items.length} label="datasets" />
      </>
    );

  const facetProps = (name: 'instrument' | 'technique' | 'year' | 'type') => ({
    name,
    counts: facets.data?.[name] ?? [],
    selected: query.get(name),
    onSelect: (value: string | null) => query.update({ [name]: value }),
  });

  return (
    <>
      <h1>Search datasets</h1>
      <div className="search-bars">
        <form role="search" className="search-form" onSubmit={submitText} aria-label="Search datasets by text">
          <label htmlFor="search-text">Text</label>
          <div className="input-row">
            <input
              id="search-text"
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="sample, dataset, proposal, technique…"
              data-testid="search-box"
            />
            <button type="submit" className="button button-primary">
              Search
            </button>
          </div>
        </form>
        <form className="search-form" onSubmit={addCondition} aria-label="Add a parameter condition">
          <label htmlFor="param-condition">Parameter condition</label>
          <div className="input-row">
            <input
              id="param-condition"
              value={condition}
              onChange={(e) => setCondition(e.target.value)}
              placeholder={`e.g. ${EXAMPLES[0]}`}
              aria-describedby="param-help"
              data-testid="param-condition"
              autoComplete="off"
              spellCheck={false}
            />
            <button type="submit" className="button">
              Add
            </button>
          </div>
          <p id="param-help" className="muted small">
            NAME OP VALUE [UNIT], OP one of = != &lt; &lt;= &gt; &gt;= ~ (text contains). Units convert: {EXAMPLES.slice(1).join(' · ')}.
          </p>
        </form>
      </div>
      {conditions.length || filters.q ? (
        <div className="chips" aria-label="Active conditions">
          {filters.q ? (
            <button type="button" className="chip" onClick={() => query.update({ q: null })} aria-label={`Remove the text “${filters.q}”`}>
              text: {filters.q} ✕
            </button>
          ) : null}
          {conditions.map((c) => (
            <button
              type="button"
              key={c}
              className="chip"
              data-testid="param-chip"
              onClick={() => query.update({ param: conditions.filter((x) => x !== c) })}
              aria-label={`Remove the condition ${c}`}
            >
              {c} ✕
            </button>
          ))}
        </div>
      ) : null}
      <div className="search-layout">
        <aside className="facets" aria-label="Facets">
          {facets.error ? <ErrorMessage error={facets.error} what="the facets" /> : null}
          {facets.data ? (
            <p className="total" data-testid="search-total" data-value={facets.data.total}>
              <strong>{formatCount(facets.data.total)}</strong> datasets
            </p>
          ) : (
            !facets.error && <Loading what="counts" />
          )}
          <Facet label="Beamline" {...facetProps('instrument')} />
          <Facet label="Technique" {...facetProps('technique')} />
          <Facet label="Year" {...facetProps('year')} />
          <Facet label="Raw or processed" {...facetProps('type')} />
        </aside>
        <section className="results" aria-label="Results">
          {results}
        </section>
      </div>
    </>
  );
}
