import { Command } from 'commander';

/**
 * One CLI for every part of Warden. Each subcommand lives in its workspace and is loaded lazily,
 * so `warden edge` on a gateway never loads the hub's dependencies.
 */
const program = new Command('warden').description('Smart-campus security and energy platform').showHelpAfterError();

program
  .command('hub')
  .description('run the hub: MQTT broker for gateways, ingest, REST API, live push, console')
  .option('-c, --config <file>', 'hub config file (YAML)')
  .action(async (opts: { config?: string }) => (await import('@warden/hub/cli.ts')).runHub(opts));

program
  .command('relay')
  .description("run a live video relay node: transcodes its cameras for viewers holding the hub's tickets (hub/README.md, Cameras)")
  .requiredOption('-c, --config <file>', 'relay node config file (YAML)')
  .action(async (opts: { config: string }) => (await import('@warden/hub/cli.ts')).runRelay(opts));

program
  .command('audit')
  .description("the hub's audit trail")
  .command('verify')
  .description('walk the audit hash chain in the hub data directory; exits 1 naming the first broken row')
  .option('-c, --config <file>', 'hub config file (YAML), for its dataDir')
  .option('--data <dir>', 'the hub data directory (overrides the config)')
  .action(async (opts: { config?: string; data?: string }) => (await import('@warden/hub/cli.ts')).runAuditVerify(opts));

const pki = program.command('pki').description('a campus CA and the TLS certificates of the hub and gateways (docs/TLS.md)');
pki
  .command('ca')
  .description('create the campus CA (ca.crt, ca.key) in a folder')
  .requiredOption('--dir <dir>', 'folder for the CA and the certificates it issues')
  .option('--name <cn>', 'CA common name', 'Warden campus CA')
  .option('--days <n>', 'validity in days (default 3650)')
  .action(async (opts: { dir: string; name?: string; days?: string }) => (await import('@warden/hub/pki.ts')).runPkiCa(opts));
pki
  .command('hub')
  .description("issue the hub's server certificate (hub.crt, hub.key): every host name and IP address clients use, as SANs")
  .requiredOption('--dir <dir>', 'the CA folder')
  .requiredOption('--name <name...>', 'host names / IP addresses; the first is the common name')
  .option('--days <n>', 'validity in days (default 825)')
  .action(async (opts: { dir: string; name: string[]; days?: string }) => (await import('@warden/hub/pki.ts')).runPkiHub(opts));
pki
  .command('gateway')
  .description("issue a gateway's client certificate (gateway-<id>.crt/.key), CN and SAN = the gateway id")
  .argument('<id>', 'gateway id')
  .requiredOption('--dir <dir>', 'the CA folder')
  .option('--days <n>', 'validity in days (default 730)')
  .action(async (id: string, opts: { dir: string; days?: string }) => (await import('@warden/hub/pki.ts')).runPkiGateway(id, opts));

program
  .command('backup')
  .description("consistent copy of the hub's stores into a new folder, taken by the running hub (or from a stopped hub's files)")
  .argument('<dir>', 'the new backup folder')
  .option('-c, --config <file>', 'hub config file (YAML), for its dataDir')
  .option('--data <dir>', 'the hub data directory (overrides the config)')
  .action(async (dir: string, opts: { config?: string; data?: string }) => (await import('@warden/hub/cli.ts')).runBackup(dir, opts));

program
  .command('restore')
  .description('check a backup folder and copy it into a new, empty hub data directory')
  .argument('<dir>', 'the backup folder')
  .requiredOption('--data <dir>', 'the NEW hub data directory to restore into')
  .action(async (dir: string, opts: { data: string }) => (await import('@warden/hub/cli.ts')).runRestore(dir, opts));

program
  .command('edge')
  .description('run an edge agent on a building gateway')
  .requiredOption('-c, --config <file>', 'edge config file (YAML)')
  .action(async (opts: { config: string }) => (await import('@warden/edge/cli.ts')).runEdge(opts));

program
  .command('sim')
  .description('run simulated field devices: a scenario name (campus, ...) or a scenario file')
  .argument('<scenario>', 'scenario name or path to a scenario YAML file')
  .option('--speed <n>', 'multiplies the scenario\'s own behaviour speed', '1')
  .option('--act <list>', 'actions to run once connected, comma-separated device:action[:arg] (e.g. door-lib-1:force)')
  .option('--duration <d>', 'stop after this long (e.g. 90s, 5m), overriding the scenario')
  .allowUnknownOption(false)
  .action(async (scenario: string, opts: Record<string, string>) => (await import('@warden/simulators/cli.ts')).runSim(scenario, opts));

program
  .command('start')
  .description('start the whole system on embedded defaults: hub + simulated campus + console on localhost')
  .option('--data <dir>', 'data directory', '.warden')
  .action(async (opts: { data: string }) => (await import('@warden/deploy/src/start.ts')).startAll(opts));

program
  .command('bench')
  .description('run the benchmarks and print numbers beside their baselines')
  .argument('[which...]', 'benchmarks to run (default: all)')
  .action(async (which: string[]) => (await import('@warden/deploy/bench/index.ts')).runBench(which));

const face = program.command('face').description('face recognition tools: verify labelled pairs, identify faces against a folder, benchmark');
face
  .command('verify')
  .description('similarity and decision per pair, then accuracy and TAR at FAR 1e-2 / 1e-3')
  .requiredOption('--pairs <csv>', 'CSV with columns file_x,file_y,Decision (Yes/No)')
  .requiredOption('--root <dir>', 'folder the CSV paths are relative to')
  .option('--json', 'print one JSON object (accuracy, threshold, tarAtFar, results)')
  .option('--threshold <n>', 'cosine similarity threshold (default: the recogniser\'s door threshold)')
  .option('--recogniser <name>', 'faceapi-recognition (default) or faceres')
  .action(async (opts: { pairs: string; root: string; json?: boolean; threshold?: string; recogniser?: string }) => (await import('@warden/edge/face/cli.ts')).runFaceVerify(opts));
face
  .command('identify')
  .description('enrol a folder of face photos, then name each face in a probe image')
  .requiredOption('--gallery <dir>', 'one folder per person, or <person>.jpg files')
  .requiredOption('--probe <img>', 'JPEG or PNG image')
  .option('--json', 'print one JSON object')
  .option('--threshold <n>', 'cosine similarity threshold')
  .option('--recogniser <name>', 'faceapi-recognition (default) or faceres')
  .action(async (opts: { gallery: string; probe: string; json?: boolean; threshold?: string; recogniser?: string }) => (await import('@warden/edge/face/cli.ts')).runFaceIdentify(opts));
face
  .command('bench')
  .description('detect + embed latency (ORT 1 and 2 threads beside TFJS) and 1:N search over 30,000 identities')
  .action(async () => (await import('@warden/deploy/bench/face.ts')).benchFace());
face
  .command('rotate-key')
  .description("re-seal every stored face template under the hub config's faces.keys.current (old keys listed under faces.keys.previous); audited; run with the hub stopped")
  .option('-c, --config <file>', 'hub config file (YAML)')
  .action(async (opts: { config?: string }) => (await import('@warden/hub/faces/keys-cli.ts')).runFaceRotateKey(opts));
face
  .command('key-gen')
  .description('a new random 256-bit face-template key as base64: on stdout, or into a new 0600 file outside the hub data dir')
  .option('--out <file>', 'write the key into this new file')
  .option('-c, --config <file>', 'hub config file (YAML), to refuse a file inside its dataDir')
  .action(async (opts: { out?: string; config?: string }) => (await import('@warden/hub/faces/keys-cli.ts')).runFaceKeyGen(opts));

await program.parseAsync(process.argv);
