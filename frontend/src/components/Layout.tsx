import { useEffect } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';

import { setUnauthorizedHandler } from '../api/client';
import { useSession } from '../auth/session';

interface Section {
  to: string;
  label: string;
  show: 'all' | 'user' | 'staff' | 'manager';
}

/** The portal's sections, as facility users know them. */
export const SECTIONS: Section[] = [
  { to: '/my-data', label: 'My Data', show: 'user' },
  { to: '/open-data', label: 'Open Data', show: 'all' },
  { to: '/closed-data', label: 'Closed Data', show: 'all' },
  { to: '/beamlines', label: 'My Beamlines', show: 'staff' },
  { to: '/manager', label: 'Manager', show: 'manager' },
  { to: '/search', label: 'Search', show: 'all' },
];

export function useVisibleSections(): Section[] {
  const { user, isStaff, isManager } = useSession();
  return SECTIONS.filter(
    (s) =>
      s.show === 'all' ||
      (s.show === 'user' && !user.anonymous) ||
      (s.show === 'staff' && isStaff) ||
      (s.show === 'manager' && isManager),
  );
}

function Header() {
  const { user, logout } = useSession();
  const sections = useVisibleSections();
  const location = useLocation();
  const navigate = useNavigate();
  const here = location.pathname + location.search;
  return (
    <header className="site-header">
      <div className="site-header-inner">
        <Link to="/" className="brand" aria-label="fairbeam data portal, home">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>fairbeam</span>
        </Link>
        <nav aria-label="Sections" className="sections">
          {sections.map((s) => (
            <NavLink key={s.to} to={s.to} className="section-link">
              {s.label}
            </NavLink>
          ))}
        </nav>
        <div className="login-state" data-testid="login-state">
          {user.anonymous ? (
            <Link to={`/login?next=${encodeURIComponent(here)}`} className="button button-primary">
              Log in
            </Link>
          ) : (
            <>
              <span className="who" title={user.username ?? ''}>
                {user.full_name || user.username}
                {user.role ? <span className="role-badge">{user.role}</span> : null}
              </span>
              <button
                type="button"
                className="button"
                onClick={() => {
                  logout();
                  navigate('/');
                }}
              >
                Log out
              </button>
            </>
          )}
        </div>
      </div>
    </header>
  );
}

/** The frame of every page; a 401 from the API leads to the login page and back. */
export function Layout() {
  const navigate = useNavigate();
  const location = useLocation();
  const { logout } = useSession();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      logout();
      const here = location.pathname + location.search;
      navigate(`/login?expired=1&next=${encodeURIComponent(here)}`);
    });
    return () => setUnauthorizedHandler(null);
  }, [navigate, location.pathname, location.search, logout]);

  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Header />
      <main id="main" className="page">
        <Outlet />
      </main>
      <footer className="site-footer">
        fairbeam · <a href="/api/docs">API</a> · metadata is public, data is open after its
        embargo
      </footer>
    </>
  );
}
