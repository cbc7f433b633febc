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

await program.parseAsync(process.argv);
