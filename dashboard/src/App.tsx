import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Shell } from './components/Shell.tsx';
import { canSee, pageById, visiblePages } from './lib/nav.ts';
import { replaceHash, useHashPage } from './lib/route.ts';
import { LoginPage } from './pages/LoginPage.tsx';
import { PAGE_COMPONENTS } from './pages/index.ts';
import { AlarmsProvider } from './state/alarms.tsx';
import { SignedInProvider, useAuthState, useSignedIn } from './state/auth.tsx';
import { EventFeedProvider } from './state/eventFeed.tsx';
import { LiveProvider } from './state/live.tsx';

const EVENTS_PAGE = pageById('events')!;
const ALARMS_PAGE = pageById('alarms')!;

export function App() {
  const auth = useAuthState();
  if (!auth.session) return <LoginPage auth={auth} />;
  return (
    <SignedInProvider session={auth.session} logout={auth.logout}>
      <LiveProvider token={auth.session.token} onUnauthorized={() => auth.logout('expired')}>
        <EventFeedProvider enabled={canSee(EVENTS_PAGE, auth.session.user.roles)}>
          <AlarmsProvider enabled={canSee(ALARMS_PAGE, auth.session.user.roles)}>
            <Routes />
          </AlarmsProvider>
        </EventFeedProvider>
      </LiveProvider>
    </SignedInProvider>
  );
}

function Routes() {
  const { t } = useTranslation();
  const { user } = useSignedIn();
  const requested = useHashPage();
  const home = visiblePages(user.roles)[0];
  const page = pageById(requested);

  // An empty or unknown address goes to the first page this user may see.
  useEffect(() => {
    if (!page && home) replaceHash(home.id);
  }, [page, home]);

  if (!page) return <Shell current={null}>{home ? null : <p className="empty">{t('common.notFound')}</p>}</Shell>;
  if (!canSee(page, user.roles)) {
    return (
      <Shell current={null}>
        <p className="empty" data-testid="forbidden">
          {t('common.forbidden')}
        </p>
      </Shell>
    );
  }
  const Page = PAGE_COMPONENTS[page.id];
  return (
    <Shell current={page.id}>
      <Page key={page.id} />
    </Shell>
  );
}
