/**
 * Runs inside a private network namespace (see onvif-camera.test.ts): starts virtual cameras with the
 * WS-Discovery responder, sends one hand-written Probe to 239.255.255.250:3702 and prints what answered.
 */
import { createSocket } from 'node:dgram';
import { startOnvifSimulator } from '../../src/onvif/index.ts';

const sim = await startOnvifSimulator({
  cameras: [
    { id: 'cam-a', name: 'Gate A', password: 'pa' },
    { id: 'cam-b', name: 'Hall B', password: 'pb', ptz: false },
    { id: 'cam-c', password: 'pc' },
  ],
  video: false,
  discovery: {},
});
sim.setOnline('cam-c', false);

const sock = createSocket('udp4');
const answers: string[] = [];
sock.on('message', (m) => answers.push(m.toString('utf8')));
await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
const probe =
  '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">' +
  '<s:Header><a:MessageID>urn:uuid:0f5d3a8e-0000-4000-8000-000000000001</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
  '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header><s:Body>' +
  '<d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><d:Types xmlns:dn="http://www.onvif.org/ver10/network/wsdl">dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>';
sock.send(probe, 3702, '239.255.255.250');
// A datagram that is not a probe is ignored, not answered and not fatal.
sock.send('not xml at all', 3702, '239.255.255.250');
await new Promise((r) => setTimeout(r, 1000));
sock.close();
await sim.stop();
process.stdout.write(JSON.stringify(answers));
