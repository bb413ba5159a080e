interface Props {
  label: string;
  field: string;
  sort: string;
  onSort: (sort: string) => void;
  /** The first click sorts newest/largest first for dates, A→Z for names. */
  descendingFirst?: boolean;
}

/** A column header that sorts on the server; aria-sort tells screen readers the order. */
export function SortHeader({ label, field, sort, onSort, descendingFirst = false }: Props) {
  const active = sort === field || sort === `-${field}`;
  const descending = sort === `-${field}`;
  const nextSort = active ? (descending ? field : `-${field}`) : descendingFirst ? `-${field}` : field;
  return (
    <th scope="col" aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort-button" onClick={() => onSort(nextSort)}>
        {label}
        <span className="sort-mark" aria-hidden="true">
          {active ? (descending ? '▼' : '▲') : '↕'}
        </span>
      </button>
    </th>
  );
}
