import type { ReactNode } from 'react';
import { Link } from 'react-router';

import type { Dataset } from '../api/types';
import type { Column } from '../lib/columns';
import { parameterOf } from '../lib/columns';
import { formatBytes, formatCount, formatDateTime, formatValue } from '../lib/format';
import { SortHeader } from './SortHeader';

interface Props {
  datasets: Dataset[];
  columns: Column[];
  sort: string;
  onSort: (sort: string) => void;
  /** Show the investigation and beamline (search results span investigations). */
  showInvestigation?: boolean;
  caption: ReactNode;
  /** Checkboxes to pick datasets (for a download of the selection). */
  selected?: Set<number>;
  onToggle?: (dataset: Dataset, on: boolean) => void;
}

function Cell({ dataset, column }: { dataset: Dataset; column: Column }) {
  const parameter = parameterOf(dataset, column.parameter);
  if (!parameter) return <td className="muted">—</td>;
  return (
    <td className="num nowrap">
      {formatValue(parameter.value)}
      {parameter.unit ? <span className="unit"> {parameter.unit}</span> : null}
    </td>
  );
}

/** Datasets with the parameter columns their technique calls for. */
export function DatasetTable({ datasets, columns, sort, onSort, showInvestigation, caption, selected, onToggle }: Props) {
  return (
    <div className="table-wrap">
      <table className="data-table" data-testid="dataset-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {onToggle ? (
              <th scope="col">
                <span className="visually-hidden">Selected for download</span>
              </th>
            ) : null}
            <SortHeader label="Dataset" field="name" sort={sort} onSort={onSort} />
            {showInvestigation ? <th scope="col">Investigation</th> : null}
            <th scope="col">Sample</th>
            <th scope="col">Type</th>
            <SortHeader label="Start" field="start" sort={sort} onSort={onSort} descendingFirst />
            {columns.map((c) => (
              <th scope="col" key={c.parameter} className="num" title={c.parameter}>
                {c.label}
              </th>
            ))}
            <th scope="col" className="num">Files</th>
            <th scope="col" className="num">Volume</th>
          </tr>
        </thead>
        <tbody>
          {datasets.map((d) => (
            <tr key={d.id} data-testid="dataset-row" data-id={d.id} data-name={d.name}>
              {onToggle ? (
                <td>
                  <input
                    type="checkbox"
                    checked={selected?.has(d.id) ?? false}
                    onChange={(e) => onToggle(d, e.target.checked)}
                    aria-label={`Select ${d.name} for download (${formatBytes(d.volume_bytes)})`}
                    data-testid="dataset-select"
                  />
                </td>
              ) : null}
              <td>
                <Link to={`/datasets/${d.id}`} className="code">
                  {d.name}
                </Link>
              </td>
              {showInvestigation ? (
                <td className="nowrap">
                  <Link to={`/investigations/${d.investigation_id}`}>{d.investigation}</Link>{' '}
                  <span className="muted">{d.instrument}</span>
                </td>
              ) : null}
              <td>{d.sample?.name ?? <span className="muted">—</span>}</td>
              <td>
                <span className={`tag tag-${d.type}`}>{d.type}</span>
              </td>
              <td className="nowrap">{formatDateTime(d.start)}</td>
              {columns.map((c) => (
                <Cell key={c.parameter} dataset={d} column={c} />
              ))}
              <td className="num">{formatCount(d.file_count)}</td>
              <td className="num nowrap">{formatBytes(d.volume_bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
