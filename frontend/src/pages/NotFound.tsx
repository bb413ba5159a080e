import { Link } from 'react-router';

import { useTitle } from '../lib/title';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <h1>No such page</h1>
      <p>
        This address is not part of the portal. Go to the <Link to="/">home page</Link> or{' '}
        <Link to="/search">search the catalogue</Link>.
      </p>
    </>
  );
}
