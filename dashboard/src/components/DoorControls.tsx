import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client.ts';
import { useSignedIn } from '../state/auth.tsx';
import type { Role } from '@warden/contract';

/** Roles the hub lets send door commands (docs/API.md); others do not see the buttons. */
const DOOR_ROLES: readonly Role[] = ['admin', 'security'];

type Status = { kind: 'idle' } | { kind: 'sending' } | { kind: 'sent'; action: string; commandId: string } | { kind: 'failed'; message: string };

/**
 * Remote open / lock of one door through `POST /api/devices/:id/commands`; the hub audits it and the door's
 * answer arrives later as a `command.result` event (on the events page and in the device's history).
 */
export function DoorControls({ device }: { device: string }) {
  const { t } = useTranslation();
  const { api, user } = useSignedIn();
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  if (!user.roles.some((r) => DOOR_ROLES.includes(r))) return null;

  const send = async (action: 'door.unlock' | 'door.lock') => {
    setStatus({ kind: 'sending' });
    try {
      const r = await api('POST /api/devices/:id/commands', { params: { id: device }, body: { action, params: {} } });
      setStatus({ kind: 'sent', action, commandId: r.commandId });
    } catch (err) {
      const message = err instanceof ApiError && err.code === 'gateway_offline' ? t('door.gatewayOffline') : err instanceof Error ? err.message : String(err);
      setStatus({ kind: 'failed', message });
    }
  };

  return (
    <div className="door-controls" data-testid="door-controls" data-device={device}>
      <button type="button" data-testid="door-open" disabled={status.kind === 'sending'} onClick={() => void send('door.unlock')}>
        {t('door.open')}
      </button>
      <button type="button" data-testid="door-lock" disabled={status.kind === 'sending'} onClick={() => void send('door.lock')}>
        {t('door.lock')}
      </button>
      {status.kind !== 'idle' && (
        <span className={status.kind === 'failed' ? 'error' : 'muted'} data-testid="door-command-status" data-status={status.kind} role="status">
          {status.kind === 'sending' && t('door.sending')}
          {status.kind === 'sent' && t('door.sent', { action: t(status.action === 'door.unlock' ? 'door.open' : 'door.lock'), id: status.commandId })}
          {status.kind === 'failed' && t('door.failed', { message: status.message })}
        </span>
      )}
    </div>
  );
}
