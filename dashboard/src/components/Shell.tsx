import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { visiblePages, type PageId } from '../lib/nav.ts';
import { useSignedIn } from '../state/auth.tsx';
import { AlarmPopups } from './AlarmPopups.tsx';
import { AlarmSound } from './AlarmSound.tsx';
import { LangToggle } from './LangToggle.tsx';
import { LiveBadge } from './LiveBadge.tsx';

export function Shell({ current, children }: { current: PageId | null; children: ReactNode }) {
  const { t } = useTranslation();
  const { user, logout } = useSignedIn();
  const pages = visiblePages(user.roles);
  return (
    <div className="shell">
      <header className="header">
        <div className="brand">
          <Logo />
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <nav className="nav" aria-label={t('nav.label')}>
          {pages.map((p) => (
            <a
              key={p.id}
              href={`#/${p.id}`}
              className={p.id === current ? 'active' : undefined}
              aria-current={p.id === current ? 'page' : undefined}
              data-testid={`nav-${p.id}`}
            >
              {t(p.label)}
            </a>
          ))}
        </nav>
        <div className="header-tools">
          <AlarmSound />
          <LiveBadge />
          <span className="user" data-testid="current-user" title={t('header.user')}>
            {user.displayName || user.username}
            <span className="roles">{user.roles.map((r) => t(`roles.${r}`)).join(' · ')}</span>
          </span>
          <LangToggle />
          <button type="button" className="logout" data-testid="logout" onClick={() => {
              // The next person to sign in starts on their own home page, not on this one.
              history.replaceState(null, '', location.pathname);
              logout();
            }}>
            {t('header.logout')}
          </button>
        </div>
      </header>
      <main className="main">{children}</main>
      <AlarmPopups />
    </div>
  );
}

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
      <path d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" fill="#2f6fde" />
      <path d="M10 16l4 4 8-9" stroke="#fff" strokeWidth="3" fill="none" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
