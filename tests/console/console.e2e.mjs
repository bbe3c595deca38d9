// Drives the web console in headless Debian Chromium (playwright-core) against a server on seeded data.
// Usage: node tests/console/console.e2e.mjs <server base url> <screenshot dir> [api key]
// Prints one line per check; exits 1 naming the first check that failed.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, shots, key] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
const requests = [];
page.on('request', r => requests.push(r.url()));
const check = async (what, action) => {
  try { await action(); console.log(`ok: ${what}`); }
  catch (e) { console.log(`FAILED: ${what}: ${e.message.split('\n')[0]}`); await page.screenshot({ path: `${shots}/failed.png`, fullPage: true }); await browser.close(); process.exit(1); }
};
const text = async selector => (await page.locator(selector).first().textContent()) ?? '';

if (key) {
  await check('without a key the console asks for one and shows nothing', async () => {
    await page.goto(`${base}/console/`);
    await page.locator('#auth-key').waitFor({ state: 'visible', timeout: 10000 });
    if ((await page.locator('main table').count()) !== 0) throw new Error('data shown without a key');
    await page.screenshot({ path: `${shots}/auth.png` });
    await page.fill('#auth-key', key);
    await page.click('#auth-form button');
  });
} else {
  await page.goto(`${base}/console/`);
}

await check('streams page lists the seeded stream', async () => {
  await page.locator('a[href="#/stream/orders"]').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${shots}/streams.png` });
});
await check('stream page finds an event by id, with its data as JSON', async () => {
  await page.click('a[href="#/stream/orders"]');
  await page.locator('#browse').waitFor();
  await page.fill('#browse input[name=id]', 'o-7');
  await page.click('#browse button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 1, null, { timeout: 10000 }).catch(() => {});
  const rows = await page.locator('#events tbody tr').count();
  const row = await text('#events tbody tr');
  if (rows !== 1 || !row.includes('o-7') || !row.includes('"amount": 7')) throw new Error(`expected the one event o-7 with its data, saw ${rows} row(s): ${row}`);
  await page.screenshot({ path: `${shots}/stream.png`, fullPage: true });
});
await check('group page shows the lag and a reset preview changes nothing', async () => {
  await page.goto(`${base}/console/#/group/orders/billing`);
  await page.waitForFunction(() => /\d/.test(document.getElementById('total-lag')?.textContent ?? ''), null, { timeout: 10000 });
  const before = await text('#total-lag');
  if (before !== '15') throw new Error(`total lag ${before}, expected 15`);
  await page.selectOption('#reset select[name=to]', 'latest');
  await page.click('#preview');
  await page.locator('#reset-result table').waitFor();
  const plan = await text('#reset-result');
  if (!plan.includes('Preview')) throw new Error(`no preview: ${plan}`);
  await page.screenshot({ path: `${shots}/group.png`, fullPage: true });
});
await check('reset to latest after confirming brings the lag to 0', async () => {
  page.once('dialog', d => d.accept());
  await page.click('#apply');
  await page.waitForFunction(() => document.getElementById('total-lag')?.textContent === '0', null, { timeout: 15000 });
});
await check('dead letters are listed and one is replayed', async () => {
  await page.goto(`${base}/console/#/deadletters/orders/billing`);
  await page.locator('main tbody tr').first().waitFor({ timeout: 10000 });
  await page.locator('main tbody tr button').first().click();
  await page.locator('#replay-result').getByText('Replayed 1 of 1').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${shots}/deadletters.png`, fullPage: true });
});
await check('a test event is produced and refused bad input is explained', async () => {
  await page.goto(`${base}/console/#/produce`);
  await page.fill('#produce input[name=stream]', 'orders');
  await page.fill('#produce input[name=id]', 'console-1');
  await page.fill('#produce textarea[name=data]', '{"orderId":"console-1","amount":1}');
  await page.click('#produce button[type=submit]');
  await page.locator('#produce-result').getByText('Appended console-1').waitFor({ timeout: 10000 });
  await page.fill('#produce textarea[name=data]', '{not json');
  await page.click('#produce button[type=submit]');
  await page.locator('#produce-result .error').waitFor();
  await page.screenshot({ path: `${shots}/produce.png`, fullPage: true });
});
await check('every request went to the server itself (no CDN)', async () => {
  const foreign = requests.filter(u => !u.startsWith(base));
  if (foreign.length) throw new Error(`requests elsewhere: ${foreign.join(', ')}`);
});
await browser.close();
