/**
 * How a user logs in. Each way (local accounts today, an OIDC identity provider later)
 * is an AuthProvider; the login page lists the providers and the session only ever sees
 * the token and user a provider answers with.
 */
import type { User } from '../api/types';

export interface Credentials {
  username: string;
  password: string;
}

export interface LoginResult {
  token: string;
  user: User;
}

export interface PasswordProvider {
  kind: 'password';
  id: string;
  /** The name on the login form, e.g. "Facility account". */
  label: string;
  login(credentials: Credentials): Promise<LoginResult>;
}

/**
 * A provider that sends the browser elsewhere (an OIDC authorization endpoint) and
 * finishes on return to `/login/callback/{id}`.
 */
export interface RedirectProvider {
  kind: 'redirect';
  id: string;
  label: string;
  start(returnTo: string): void;
  finish(callbackUrl: URL): Promise<LoginResult>;
}

export type AuthProvider = PasswordProvider | RedirectProvider;
