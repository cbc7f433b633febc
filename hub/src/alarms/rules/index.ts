import type { AlarmRule } from '../types.ts';
import { afterHours } from './after-hours.ts';
import { cameraTamper } from './camera-tamper.ts';
import { deviceOffline } from './device-offline.ts';
import { diskLow } from './disk-low.ts';
import { doorForced } from './door-forced.ts';
import { doorHeldOpen } from './door-held-open.ts';
import { emergencyCall } from './emergency-call.ts';
import { energyAnomaly } from './energy-anomaly.ts';
import { faceWatchlist } from './face-watchlist.ts';
import { fire } from './fire.ts';
import { gatewayOffline } from './gateway-offline.ts';
import { intrusion } from './intrusion.ts';
import { loginLockout } from './login-lockout.ts';
import { repeatedDenied } from './repeated-denied.ts';
import { turnstileAntipassback } from './turnstile-antipassback.ts';
import { turnstileTailgating } from './turnstile-tailgating.ts';

/** Every alarm rule; a new rule type is one file in this folder plus one line here. */
export const RULES: readonly AlarmRule[] = [
  doorForced,
  doorHeldOpen,
  turnstileTailgating,
  turnstileAntipassback,
  fire,
  emergencyCall,
  intrusion,
  cameraTamper,
  faceWatchlist,
  deviceOffline,
  gatewayOffline,
  afterHours,
  repeatedDenied,
  energyAnomaly,
  loginLockout,
  diskLow,
];
