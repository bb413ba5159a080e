import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';

import { apiGet } from '../../api/client';
import { useApi } from '../../api/useApi';
import { Pager } from '../../components/Pager';
import { Empty, ErrorMessage, Loading } from '../../components/Status';
import { formatDate } from '../../lib/format';
import { useUrlQuery } from '../../lib/query';

const ROLES = ['user', 'staff', 'manager', 'software'];

export function UsersPanel() {
  const query = useUrlQuery();
  const [text, setText] = useState(query.get('q'));
  const filters = { role: query.get('role') || undefined, q: query.get('q') || undefined, limit: 50, cursor: query.cursor };
  const users = useApi(JSON.stringify(filters), (signal) => apiGet('/api/users', { query: filters, signal }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    query.update({ q: text.trim() || null });
  };
  let body: ReactNode;
  if (users.error) body = <ErrorMessage error={users.error} what="the users" />;
  else if (!users.data) body = <Loading what="users" />;
  else if (users.data.items.length === 0)
    body = <Empty>No account matches. Accounts are added with `fairbeam user add`.</Empty>;
  else
    body = (
      <>
        <div className="table-wrap">
          <table className="data-table" data-testid="user-table">
            <caption className="visually-hidden">Accounts, by username</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Beamlines</th>
                <th scope="col">Email</th>
                <th scope="col">ORCID</th>
                <th scope="col">Active</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {users.data.items.map((u) => (
                <tr key={u.id} data-testid="user-row" data-username={u.username}>
                  <td className="code">{u.username}</td>
                  <td>{u.full_name}</td>
                  <td>
                    <span className="tag">{u.role}</span>
                  </td>
                  <td>{u.instruments.join(', ') || <span className="muted">—</span>}</td>
                  <td>{u.email ? <a href={`mailto:${u.email}`}>{u.email}</a> : <span className="muted">—</span>}</td>
                  <td>{u.orcid ? <a href={`https://orcid.org/${u.orcid}`}>{u.orcid}</a> : <span className="muted">—</span>}</td>
                  <td>{u.active ? 'yes' : <span className="tag">disabled</span>}</td>
                  <td className="nowrap">{formatDate(u.created)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager query={query} next={users.data.next} shown={users.data.items.length} label="users" />
      </>
    );
  return (
    <section aria-label="Users">
      <form className="filters" role="search" aria-label="Filter users" onSubmit={submit}>
        <label>
          Name or username
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label>
          Role
          <select value={query.get('role')} onChange={(e) => query.update({ role: e.target.value || null })}>
            <option value="">All roles</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button button-primary">
          Filter
        </button>
      </form>
      {body}
    </section>
  );
}
