import { apiPost } from '../api/client';
import type { LoginAnswer } from '../api/types';
import type { Credentials, PasswordProvider } from './provider';

/** Local accounts of the facility: `POST /api/auth/login`. */
export const localProvider: PasswordProvider = {
  kind: 'password',
  id: 'local',
  label: 'Facility account',
  login: (credentials: Credentials) => apiPost<LoginAnswer>('/api/auth/login', credentials),
};

/** Every way to log in, in the order the login page shows them. */
export const providers = [localProvider];
