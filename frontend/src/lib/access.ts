import type { Investigation, User } from '../api/types';

/**
 * Whether the caller may see an investigation's datasets: the portal asks only then, so
 * an embargoed investigation shows its metadata and the release date, never a request
 * the server would refuse. The server's access rules stay the authority.
 */
export function maySeeData(user: User, investigation: Investigation): boolean {
  if (investigation.public) return true;
  if (user.anonymous) return false;
  if (user.role === 'manager') return true;
  if (user.role === 'staff' && user.instruments.includes(investigation.instrument)) return true;
  return investigation.participants.some((p) => p.username === user.username);
}
