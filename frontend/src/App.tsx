import { Suspense, lazy } from 'react';
import { BrowserRouter, Route, Routes } from 'react-router';

import { SessionProvider } from './auth/session';
import { Layout } from './components/Layout';
import { Loading } from './components/Status';
import { DatasetPage } from './pages/Dataset';
import { HomePage } from './pages/Home';
import { InvestigationPage } from './pages/Investigation';
import { BeamlineLogbookPage, InvestigationLogbookPage } from './pages/Logbook';
import { LoginPage } from './pages/Login';
import { NotFoundPage } from './pages/NotFound';
import { SearchPage } from './pages/Search';
import { ManagerIndex, ManagerLayout, ProposalsPanel } from './pages/manager/Manager';
import { UsersPanel } from './pages/manager/Users';
import { AuditPanel } from './pages/manager/Audit';
import { PolicyPanel } from './pages/manager/Policy';

// Charts bring their own library: loaded only when a manager opens the statistics.
const StatisticsPanel = lazy(() =>
  import('./pages/manager/Statistics').then((m) => ({ default: m.StatisticsPanel })),
);
import { BeamlinesPage, ClosedDataPage, MyDataPage, OpenDataPage } from './pages/Sections';

/** One page per URL, so that every view can be bookmarked and shared. */
export function App() {
  return (
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<HomePage />} />
            <Route path="login" element={<LoginPage />} />
            <Route path="my-data" element={<MyDataPage />} />
            <Route path="open-data" element={<OpenDataPage />} />
            <Route path="closed-data" element={<ClosedDataPage />} />
            <Route path="beamlines" element={<BeamlinesPage />} />
            <Route path="investigations/:id" element={<InvestigationPage />} />
            <Route path="investigations/:id/logbook" element={<InvestigationLogbookPage />} />
            <Route path="beamlines/:name/logbook" element={<BeamlineLogbookPage />} />
            <Route path="datasets/:id" element={<DatasetPage />} />
            <Route path="search" element={<SearchPage />} />
            <Route path="manager" element={<ManagerLayout />}>
              <Route index element={<ManagerIndex />} />
              <Route
                path="statistics"
                element={
                  <Suspense fallback={<Loading what="the statistics" />}>
                    <StatisticsPanel />
                  </Suspense>
                }
              />
              <Route path="users" element={<UsersPanel />} />
              <Route path="proposals" element={<ProposalsPanel />} />
              <Route path="policy" element={<PolicyPanel />} />
              <Route path="audit" element={<AuditPanel />} />
            </Route>
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
