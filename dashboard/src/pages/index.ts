import type { ComponentType } from 'react';
import type { PageId } from '../lib/nav.ts';
import { DevicesPage } from './DevicesPage.tsx';
import { EventsPage } from './EventsPage.tsx';
import { GatewaysPage } from './GatewaysPage.tsx';

/** Typed by PageId: a page listed in `lib/nav.ts` without a component here fails the type check. */
export const PAGE_COMPONENTS: Record<PageId, ComponentType> = {
  events: EventsPage,
  devices: DevicesPage,
  gateways: GatewaysPage,
};
