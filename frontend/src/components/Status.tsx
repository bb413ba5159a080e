import type { ReactNode } from 'react';
import { Link } from 'react-router';

import { ApiError } from '../api/client';

export function Loading({ what }: { what: string }) {
  return (
    <p className="status status-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

/** What went wrong, in the API's own words, and what the reader can do about it. */
export function ErrorMessage({ error, what }: { error: Error; what: string }) {
  const status = error instanceof ApiError ? error.status : 0;
  let hint: ReactNode = null;
  if (status === 401) hint = <Link to="/login">Log in to see it.</Link>;
  else if (status === 404) hint = 'It does not exist, or your account may not see it.';
  else if (status === 403) hint = 'Your account may not do this.';
  return (
    <div className="status status-error" role="alert">
      <strong>Could not load {what}:</strong> {error.message}
      {hint ? <> — {hint}</> : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="status status-empty">{children}</div>;
}

/** What an action could not do, read out when it appears; nothing without a problem. */
export function Problem({ text, block, testId }: { text: string | null; block?: boolean; testId?: string }) {
  if (!text) return null;
  return block ? (
    <p className="status status-error" role="alert" data-testid={testId}>
      {text}
    </p>
  ) : (
    <span className="status-error small" role="alert" data-testid={testId}>
      {text}
    </span>
  );
}
