import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { child, parseSoap, text } from './soap.ts';
import { probeMatch } from './templates.ts';

/**
 * WS-Discovery responder for the virtual cameras: listens on the multicast group (239.255.255.250:3702),
 * answers a Probe for NetworkVideoTransmitter (or for any type) with one ProbeMatches datagram per online
 * camera, unicast to the prober, paced so a prober's receive buffer is not flooded. It binds every
 * interface (multicast needs it), so tests run it in a private network namespace (`unshare -n`).
 */

export interface DiscoveryCamera {
  urn: string;
  xaddr: string;
  scopes: string;
}

export interface DiscoveryResponderOptions {
  port?: number;
  group?: string;
  /** Interface address to join the group on (default: the kernel's choice for the group route). */
  interfaceAddress?: string;
  cameras(): DiscoveryCamera[];
  log?(msg: string): void;
}

export interface DiscoveryResponder {
  port: number;
  probes(): number;
  stop(): Promise<void>;
}

const BURST = 50;

export async function startDiscoveryResponder(o: DiscoveryResponderOptions): Promise<DiscoveryResponder> {
  const group = o.group ?? '239.255.255.250';
  const sock = createSocket({ type: 'udp4', reuseAddr: true });
  let probes = 0;
  let closed = false;
  const pending = new Set<NodeJS.Timeout>();

  const answer = (msg: Buffer, rinfo: RemoteInfo): void => {
    let relatesTo: string | undefined;
    let types: string | undefined;
    try {
      const soap = parseSoap(msg.toString('utf8'));
      if (soap.action !== 'Probe') return;
      relatesTo = text(child(soap.header, 'MessageID'));
      types = text(soap.body.Types);
    } catch {
      o.log?.(`discovery: unreadable datagram from ${rinfo.address}:${rinfo.port}`);
      return;
    }
    if (!relatesTo) return;
    if (types && !/NetworkVideoTransmitter/.test(types) && !/Device\b/.test(types)) return;
    probes++;
    const list = o.cameras();
    let i = 0;
    const burst = (): void => {
      if (closed) return;
      for (const end = Math.min(i + BURST, list.length); i < end; i++) {
        const c = list[i]!;
        const xml = probeMatch({ relatesTo: relatesTo!, messageId: `urn:uuid:${randomUUID()}`, urn: c.urn, xaddr: c.xaddr, scopes: c.scopes });
        sock.send(xml, rinfo.port, rinfo.address);
      }
      if (i < list.length) {
        const t = setTimeout(() => {
          pending.delete(t);
          burst();
        }, 5);
        pending.add(t);
      }
    };
    burst();
  };

  sock.on('message', answer);
  sock.on('error', (err) => o.log?.(`discovery: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(o.port ?? 3702, () => {
      sock.removeListener('error', reject);
      resolve();
    });
  });
  sock.addMembership(group, o.interfaceAddress);
  sock.setMulticastLoopback(true);

  return {
    port: sock.address().port,
    probes: () => probes,
    stop: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const t of pending) clearTimeout(t);
        sock.close(() => resolve());
      }),
  };
}
