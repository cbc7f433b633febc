import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHub, type TestHub } from './helpers.ts';

describe('console serving', () => {
  let dist: string;
  let withBuild: TestHub;
  let withoutBuild: TestHub;
  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'warden-hub-dist-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>Warden</title><div id="root"></div>');
    await writeFile(join(dist, 'assets', 'app.js'), 'console.log("warden")');
    withBuild = await testHub({ dashboard: { dir: dist } });
    withoutBuild = await testHub();
  });
  afterAll(async () => {
    await withBuild.close();
    await withoutBuild.close();
    await rm(dist, { recursive: true, force: true });
  });

  it('serves files, and index.html for client-side routes', async () => {
    const root = await fetch(withBuild.hub.httpUrl + '/');
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('<title>Warden</title>');
    const asset = await fetch(withBuild.hub.httpUrl + '/assets/app.js');
    expect(await asset.text()).toBe('console.log("warden")');
    const deep = await fetch(withBuild.hub.httpUrl + '/devices/door-1?tab=events');
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toMatch(/text\/html/);
    // The API keeps its JSON 404s.
    const api = await fetch(withBuild.hub.httpUrl + '/api/nope');
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('says how to build the console when there is no build', async () => {
    const res = await fetch(withoutBuild.hub.httpUrl + '/');
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/npm run build/);
    expect((await fetch(withoutBuild.hub.httpUrl + '/events')).status).toBe(503);
    expect((await fetch(withoutBuild.hub.httpUrl + '/api/health')).status).toBe(200);
  });
});
