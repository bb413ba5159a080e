import type { UrlQuery } from '../lib/query';

interface Props {
  query: UrlQuery;
  next: string | null | undefined;
  shown: number;
  label: string;
}

/** Previous / Next over server cursors; the cursor is in the URL, the way back in history. */
export function Pager({ query, next, shown, label }: Props) {
  if (!query.hasPrevious && !next) return null;
  return (
    <nav className="pager" aria-label={`Pages of ${label}`}>
      <button type="button" onClick={query.previous} disabled={!query.hasPrevious}>
        ← Previous
      </button>
      <span className="pager-shown">{shown} on this page</span>
      <button type="button" onClick={() => next && query.next(next)} disabled={!next}>
        Next →
      </button>
    </nav>
  );
}
