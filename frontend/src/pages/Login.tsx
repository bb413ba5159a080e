import { useState } from 'react';
import type { FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';

import { providers } from '../auth/local';
import { useSession } from '../auth/session';
import { useTitle } from '../lib/title';

/** Only paths inside the portal are followed after a login. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login')
    ? next
    : '/my-data';
}

export function LoginPage() {
  useTitle('Log in');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { user, begin } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(params.get('next'));
  const provider = providers[0];

  if (!user.anonymous && !busy) return <Navigate to={next} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      begin(await provider.login({ username: username.trim(), password }));
      navigate(next, { replace: true });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <h1>Log in</h1>
      {params.get('expired') ? (
        <p className="status status-info" role="status">
          Your session has ended; log in again to carry on where you were.
        </p>
      ) : null}
      <form className="card login-form" onSubmit={submit} aria-label={provider.label} data-testid="login-form">
        <h2>{provider.label}</h2>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            data-testid="login-username"
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
          />
        </label>
        {error ? (
          <p className="status status-error" role="alert" data-testid="login-error">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={busy} data-testid="login-submit">
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p className="muted">
        No account? Open data and the metadata of every investigation can be browsed without one.
      </p>
    </div>
  );
}
