import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHubConfig, startHub } from '@warden/hub';
import { FacePipeline, decodeImage, faceWindowJpeg } from '@warden/models';
import { packageDir } from '@warden/models/paths.ts';
import { type Browser } from 'playwright-core';
import { DASHBOARD, CHROMIUM, launchChromium, closeAfterAll } from './browser.ts';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The Faces page in real headless Chromium against the real hub: card-only enrolment, enrolment from a photo
 * chosen in the file input (templated on the hub), watch-list toggle, consent withdrawal, deletion.
 * The console is built into a temporary folder from the current sources, so this test never races another
 * suite over dashboard/dist.
 */
const ADMIN_PASSWORD = 'faces-console-admin-pw';

let dir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let photo: Buffer;

/** One face cut from a photo shipped in @vladmandic/face-api, as a JPEG: what an operator would upload. */
async function facePhoto(): Promise<Buffer> {
  const pipeline = await FacePipeline.create({ liveness: false });
  const img = decodeImage(await readFile(join(packageDir('@vladmandic/face-api'), 'demo', 'sample3.jpg')));
  const [f] = (await pipeline.analyse(img)).filter((x) => x.quality.ok);
  await pipeline.close();
  return faceWindowJpeg(img, f!.box, f!.box.width * 1.8, { quality: 90 });
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dir = await mkdtemp(join(tmpdir(), 'warden-faces-console-'));
  const { build } = await import('vite');
  await build({ root: DASHBOARD, configFile: join(DASHBOARD, 'vite.config.ts'), logLevel: 'warn', build: { outDir: join(dir, 'dist'), emptyOutDir: true } });
  photo = await facePhoto();
  hub = await startHub(parseHubConfig({
      http: { port: 0 }, mqtt: { port: 0 }, dataDir: join(dir, 'hub'), admin: { password: ADMIN_PASSWORD }, dashboard: { dir: join(dir, 'dist') } }), { logger: false });
  browser = await launchChromium();
}, 120_000);

closeAfterAll(() => [browser, hub, dir]);

describe('Faces page in a real browser', () => {
  it('enrols card-only and from a photo, toggles the watch-list, withdraws consent and deletes', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(hub.httpUrl);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav-faces').click();
    await page.getByRole('heading', { name: '人脸与通行凭证' }).waitFor();

    // Card / QR only.
    await page.getByTestId('face-name').fill('张三');
    await page.getByTestId('face-dorms').fill('dorm-1');
    await page.getByTestId('face-credentials').fill('CARD-1');
    await page.getByTestId('face-submit').click();
    await page.getByTestId('face-enrol-result').filter({ hasText: '仅卡' }).waitFor();
    const cardRow = page.getByTestId('face-row').filter({ hasText: '张三' });
    await cardRow.waitFor();
    expect(await cardRow.getAttribute('data-templates')).toBe('0');

    // From a photo chosen in the file input: templated on the hub, consent recorded.
    await page.getByTestId('face-name').fill('李四');
    await page.getByTestId('face-credentials').fill('CARD-2');
    await page.getByTestId('face-photos').setInputFiles({ name: 'li.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.getByTestId('face-submit').click();
    await page.getByTestId('face-enrol-result').filter({ hasText: '录入 1 张照片' }).waitFor();
    const row = page.getByTestId('face-row').filter({ hasText: '李四' });
    await page.waitForFunction(() => document.querySelector('[data-testid="face-row"][data-templates="1"]') !== null);
    expect(await row.getByTestId('face-consent').textContent()).toContain('李四');

    // The box follows the hub: it flips once the hub has answered and the list is fetched again.
    await row.getByTestId('face-watchlist').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="face-row"][data-watchlist="true"]') !== null);

    await row.getByTestId('face-withdraw').click();
    await row.getByTestId('face-consent').filter({ hasText: '已撤回' }).waitFor();

    await cardRow.getByTestId('face-delete').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="face-row"]').length === 1);

    // The hub agrees: one person left, on the watch-list, consent withdrawn, audit trail written.
    const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('warden.session')!) as { token: string }).token);
    const persons = (await (await fetch(`${hub.httpUrl}/api/faces/persons`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      persons: Array<{ name: string; watchlist: boolean; consent: unknown; templates: number }>;
    };
    expect(persons.persons).toHaveLength(1);
    expect(persons.persons[0]).toMatchObject({ name: '李四', watchlist: true, consent: null, templates: 1 });
    await context.close();
  }, 90_000);
});
