// Baseline broker for benchmarks: a bare aedes over TCP with no auth, validation or storage, run as its own
// process like the hub, so "Warden vs raw aedes" compares the same transport with and without the hub's work.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker();
const server = createServer((socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`PORT ${addr.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  broker.close(() => process.exit(0));
});
