import { useState } from 'react';
import type { FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';

import { apiGet } from '../api/client';
import { useApi } from '../api/useApi';
import { useSession } from '../auth/session';
import { useVisibleSections } from '../components/Layout';
import { formatCount } from '../lib/format';
import { useTitle } from '../lib/title';

const DESCRIPTIONS: Record<string, string> = {
  '/my-data': 'Your investigations: watch datasets arrive, look at them, download them.',
  '/open-data': 'Released data, free to explore and cite.',
  '/closed-data': 'Experiments under embargo: who, where and what — the data comes later.',
  '/beamlines': 'Every investigation on the beamlines you look after.',
  '/manager': 'Statistics, users and proposals waiting for a decision.',
  '/search': 'Find datasets by text, beamline, technique, year and parameter values.',
};

export function HomePage() {
  useTitle(undefined);
  const navigate = useNavigate();
  const { user } = useSession();
  const sections = useVisibleSections();
  const [text, setText] = useState('');
  const facets = useApi(`home-facets-${user.username}`, (signal) => apiGet('/api/datasets/facets', { signal }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(text.trim() ? `/search?q=${encodeURIComponent(text.trim())}` : '/search');
  };
  return (
    <>
      <section className="hero">
        <h1>Find, view and download the facility's data</h1>
        <p className="lead">
          {user.anonymous
            ? 'Browse the catalogue of experiments and open data; log in to reach your own.'
            : `Welcome, ${user.full_name || user.username}.`}
        </p>
        <form role="search" className="hero-search" onSubmit={submit} aria-label="Search datasets">
          <label htmlFor="home-search" className="visually-hidden">
            Search datasets
          </label>
          <input
            id="home-search"
            type="search"
            placeholder="Sample, proposal, technique, parameter…"
            value={text}
            onChange={(e) => setText(e.target.value)}
            data-testid="home-search"
          />
          <button type="submit" className="button button-primary">
            Search
          </button>
        </form>
        {facets.data ? (
          <p className="muted">
            {formatCount(facets.data.total)} datasets you can see, on{' '}
            {facets.data.instrument.map((f, i) => (
              <span key={f.value}>
                {i ? ', ' : ''}
                <Link to={`/search?instrument=${encodeURIComponent(f.value)}`}>{f.value}</Link>
              </span>
            ))}
            .
          </p>
        ) : null}
      </section>
      <ul className="section-cards">
        {sections.map((s) => (
          <li key={s.to}>
            <Link to={s.to} className="section-card">
              <span className="section-card-title">{s.label}</span>
              <span className="section-card-text">{DESCRIPTIONS[s.to]}</span>
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}
