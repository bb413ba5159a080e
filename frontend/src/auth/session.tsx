import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';

import { apiGet } from '../api/client';
import type { User } from '../api/types';
import type { LoginResult } from './provider';
import { clearToken, getToken, setToken } from './token';

export interface Session {
  /** The caller; an anonymous record until `/api/me` answers or when logged out. */
  user: User;
  /** False until the first `/api/me` answered. */
  ready: boolean;
  isManager: boolean;
  isStaff: boolean;
  /** Store a provider's answer as the session. */
  begin(result: LoginResult): void;
  logout(): void;
}

const ANONYMOUS: User = {
  id: null,
  username: null,
  full_name: '',
  role: null,
  orcid: null,
  instruments: [],
  anonymous: true,
};

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User>(ANONYMOUS);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    if (!getToken()) {
      setReady(true);
      return;
    }
    apiGet('/api/me')
      .then((me) => setUser(me))
      .catch(() => {
        clearToken();
        setUser(ANONYMOUS);
      })
      .finally(() => setReady(true));
  }, []);

  const begin = useCallback((result: LoginResult) => {
    setToken(result.token);
    setUser(result.user);
    setReady(true);
  }, []);

  const logout = useCallback(() => {
    clearToken();
    setUser(ANONYMOUS);
  }, []);

  const value = useMemo<Session>(
    () => ({
      user,
      ready,
      isManager: user.role === 'manager',
      isStaff: user.role === 'staff' || user.role === 'manager',
      begin,
      logout,
    }),
    [user, ready, begin, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession needs a SessionProvider');
  return session;
}

