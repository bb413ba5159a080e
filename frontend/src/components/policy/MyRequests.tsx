import { Link } from 'react-router';

import { apiGet } from '../../api/client';
import { useApi } from '../../api/useApi';
import { useSession } from '../../auth/session';
import { formatCount, formatDate, formatDateTime } from '../../lib/format';
import { ErrorMessage } from '../Status';

/** The caller's own requests to the data managers (DOIs, embargo extensions) and their answers. */
export function MyRequests() {
  const { user } = useSession();
  const key = user.anonymous ? null : `my-requests-${user.username}`;
  const requests = useApi(key, (signal) =>
    Promise.all([
      apiGet('/api/doi-requests', { query: { limit: 20 }, signal }),
      apiGet('/api/embargo-extensions', { query: { limit: 20 }, signal }),
    ]),
  );
  if (requests.error) return <ErrorMessage error={requests.error} what="your requests" />;
  if (!requests.data) return null;
  const [dois, extensions] = requests.data;
  if (dois.items.length === 0 && extensions.items.length === 0) return null;
  return (
    <section className="card my-requests" aria-labelledby="my-requests-title" data-testid="my-requests">
      <h2 id="my-requests-title">Your requests</h2>
      <ul className="requests">
        {dois.items.map((r) => (
          <li key={`doi-${r.id}`} data-testid="my-doi-request" data-status={r.status}>
            <span className={`tag tag-status-${r.status}`}>{r.status}</span> DOI on “{r.title}”{' '}
            <span className="muted small">
              {formatCount(r.dataset_count)} datasets · asked {formatDateTime(r.created)}
            </span>
            {r.doi ? (
              <div>
                <a href={`/doi/${r.doi}`}>{r.doi}</a> <span className="muted small">{r.doi_state}</span>
              </div>
            ) : null}
            {r.note ? <div className="small muted">Note: {r.note}</div> : null}
          </li>
        ))}
        {extensions.items.map((x) => (
          <li key={`ext-${x.id}`} data-testid="my-extension" data-status={x.status}>
            <span className={`tag tag-status-${x.status}`}>{x.status}</span> embargo of{' '}
            <Link to={`/investigations/${x.investigation}`} className="code">
              {x.code}
            </Link>{' '}
            until {formatDate(x.release_date)} <span className="muted small">asked {formatDateTime(x.created)}</span>
            {x.note ? <div className="small muted">Note: {x.note}</div> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
