import { readFileSync } from 'node:fs';

/** The edge package version, reported to the hub in the gateway status. */
export const AGENT_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
