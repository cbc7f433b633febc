import type { ComponentType } from 'react';
import type { PageId } from '../lib/nav.ts';
import { AlarmsPage } from './AlarmsPage.tsx';
import { AttendancePage } from './AttendancePage.tsx';
import { AuditPage } from './AuditPage.tsx';
import { CamerasPage } from './CamerasPage.tsx';
import { CameraStatusPage } from './CameraStatusPage.tsx';
import { ProposalsPage } from './ProposalsPage.tsx';
import { DevicesPage } from './DevicesPage.tsx';
import { EnergyAnomaliesPage } from './EnergyAnomaliesPage.tsx';
import { EnergyCostPage } from './EnergyCostPage.tsx';
import { EnergyImportPage } from './EnergyImportPage.tsx';
import { EnergyPage } from './EnergyPage.tsx';
import { EnergySchedulesPage } from './EnergySchedulesPage.tsx';
import { EventsPage } from './EventsPage.tsx';
import { FacesPage } from './FacesPage.tsx';
import { GatewaysPage } from './GatewaysPage.tsx';
import { SitePage } from './SitePage.tsx';
import { UsersPage } from './UsersPage.tsx';

/** Typed by PageId: a page listed in `lib/nav.ts` without a component here fails the type check. */
export const PAGE_COMPONENTS: Record<PageId, ComponentType> = {
  events: EventsPage,
  alarms: AlarmsPage,
  site: SitePage,
  cameras: CamerasPage,
  cameraStatus: CameraStatusPage,
  proposals: ProposalsPage,
  devices: DevicesPage,
  energy: EnergyPage,
  energyCost: EnergyCostPage,
  energyAnomalies: EnergyAnomaliesPage,
  energyImport: EnergyImportPage,
  energySchedules: EnergySchedulesPage,
  faces: FacesPage,
  attendance: AttendancePage,
  gateways: GatewaysPage,
  audit: AuditPage,
  users: UsersPage,
};
