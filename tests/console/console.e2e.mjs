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
const fitsWindow = async what => {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  if (scroll > inner) throw new Error(`${what} is ${scroll} px wide in a ${inner} px window (a long name breaks the layout)`);
};

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
await check('a long stream name does not widen the streams page', () => fitsWindow('the streams page'));
await check('the keyboard reaches the navigation and opens a page', async () => {
  await page.locator('main').focus(); // where a page puts the focus when it opens
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Shift+Tab'); // from the page back up to the navigation
    if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Consumer groups') break;
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80));
  if ((await page.evaluate(() => document.activeElement?.textContent)) !== 'Consumer groups') throw new Error(`Shift+Tab from the page never reached the "Consumer groups" link (focus on ${at})`);
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'Consumer groups' }).waitFor({ timeout: 10000 });
  await page.locator('main a[href="#/group/orders/billing"]').waitFor({ timeout: 10000 });
  await fitsWindow('the groups page');
  await page.screenshot({ path: `${shots}/groups.png`, fullPage: true });
});
await check('stream page finds an event by id, with its data as JSON', async () => {
  await page.goto(`${base}/console/#/streams`);
  await page.click('main a[href="#/stream/orders"]');
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
await check('a running function\'s lag rises as events arrive and falls to 0 as it handles them', async () => {
  await page.goto(`${base}/console/#/group/shipments/ship`);
  await page.waitForFunction(() => document.getElementById('total-lag')?.textContent === '0', null, { timeout: 15000 });
  const batch = Array.from({ length: 40 }, (_, i) => ({ specversion: '1.0', id: `s-${i}`, source: '/warehouse', type: 'com.example.shipment.created', datacontenttype: 'application/json', data: { shipment: i } }));
  const response = await page.evaluate(async ([b, k]) => (await fetch('/streams/shipments/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json', ...(k ? { 'x-api-key': k } : {}) }, body: JSON.stringify(b) })).status, [batch, key]);
  if (response >= 300) throw new Error(`producing 40 shipments: HTTP ${response}`);
  let seen = 0, shot = false;
  const deadline = Date.now() + 45000;
  for (;;) {
    const lag = Number((await text('#total-lag')).replace(/,/g, ''));
    if (lag > 0 && !shot) { await page.screenshot({ path: `${shots}/group-live.png`, fullPage: true }); shot = true; }
    seen = Math.max(seen, lag || 0);
    if (seen > 0 && lag === 0) break;
    if (Date.now() > deadline) throw new Error(`lag never rose and fell back to 0 (highest seen ${seen}, now ${lag})`);
    await page.waitForTimeout(200);
  }
  if (seen < 5) throw new Error(`the lag rose only to ${seen}`);
  await page.locator('#partitions', { hasText: 'ship-1' }).waitFor({ timeout: 10000 }); // the owner, from the live describe
  console.log(`  lag rose to ${seen} and fell to 0`);
});
await check('the functions page shows the function\'s kind and counts, and the materializer\'s', async () => {
  await page.goto(`${base}/console/#/functions`);
  const ship = page.locator('main tbody tr', { hasText: 'shipments' });
  await ship.waitFor({ timeout: 10000 });
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Functions' && [...document.querySelectorAll('main tbody tr')].some(r => r.textContent.includes('shipments') && r.children[5]?.textContent === '40'), null, { timeout: 20000 })
    .catch(async () => { throw new Error(`ship row: ${await ship.textContent()}`); });
  const table = await text('main tbody tr:has-text("customer-table")');
  if (!table.includes('materializer')) throw new Error(`customer-table row: ${table}`);
  await fitsWindow('the functions page');
  await page.screenshot({ path: `${shots}/functions.png`, fullPage: true });
});
await check('a materializer\'s table is looked up by prefix and by key', async () => {
  await page.click('main a[href="#/table/customers/customer-table"]');
  await page.locator('#lookup').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#entries tbody tr').length === 3, null, { timeout: 10000 });
  await page.fill('#lookup input[name=text]', 'c-');
  await page.click('#lookup button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#entries tbody tr').length === 2, null, { timeout: 10000 });
  await page.screenshot({ path: `${shots}/table.png`, fullPage: true });
  await page.fill('#lookup input[name=text]', 'c-2');
  await page.selectOption('#lookup select[name=match]', 'key');
  await page.click('#lookup button[type=submit]');
  await page.locator('#entries', { hasText: 'Grace Hopper' }).waitFor({ timeout: 10000 });
  await page.fill('#lookup input[name=text]', 'c-9');
  await page.click('#lookup button[type=submit]');
  await page.locator('#entries .error', { hasText: "Key 'c-9'" }).waitFor({ timeout: 10000 });
});
await check('dead letters are filtered by type, one is replayed, and the running function handles it', async () => {
  await page.goto(`${base}/console/#/deadletters/shipments/ship`);
  await page.waitForFunction(() => document.querySelectorAll('#letters tbody tr').length === 2, null, { timeout: 10000 });
  await page.fill('#letter-filter input[name=type]', 'com.example.shipment.cancelled');
  await page.click('#letter-filter button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#letters tbody tr').length === 1, null, { timeout: 10000 });
  page.once('dialog', d => d.accept());
  await page.click('#replay-all');
  await page.locator('#replay-result').getByText('Replayed 1 of 1').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${shots}/deadletters.png`, fullPage: true });
  console.log(`  replay: ${await text('#replay-result')}`);
  await page.goto(`${base}/console/#/functions`);
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Functions' && [...document.querySelectorAll('main tbody tr')].some(r => r.textContent.includes('shipments') && r.children[5]?.textContent === '41'), null, { timeout: 20000 })
    .catch(async () => {
      const state = await page.evaluate(async k => JSON.stringify(await (await fetch('/streams/shipments/groups/ship', { headers: k ? { 'x-api-key': k } : {} })).json()), key);
      throw new Error(`the replayed shipment was not handled: ${await text('main tbody tr:has-text("shipments")')}; group: ${state}`);
    });
});
await check('the streams page shows a produce rate', async () => {
  await page.goto(`${base}/console/#/streams`);
  await page.locator('main a[href="#/stream/shipments"]').waitFor({ timeout: 10000 });
  await page.evaluate(async k => {
    const batch = Array.from({ length: 50 }, (_, i) => ({ specversion: '1.0', id: `rate-${i}`, source: '/rate', type: 'com.example.payment', datacontenttype: 'application/json', data: { amount: i } }));
    await fetch('/streams/payments/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json', ...(k ? { 'x-api-key': k } : {}) }, body: JSON.stringify(batch) });
  }, key);
  await page.waitForFunction(() => /^[1-9][\d,]*\/s$/.test([...document.querySelectorAll('main tbody tr')].find(r => r.textContent.startsWith('payments'))?.children[6].textContent ?? ''), null, { timeout: 15000 });
});
await check('a test event is produced and refused bad input is explained', async () => {
  await page.goto(`${base}/console/#/produce`);
  await page.locator('#produce select[name=stream]').waitFor({ timeout: 10000 });
  await page.selectOption('#produce select[name=stream]', 'payments');
  await page.locator('#contract', { hasText: 'schema version 1' }).waitFor({ timeout: 10000 });
  await page.fill('#produce textarea[name=data]', '{"amount":-1}');
  await page.click('#check');
  await page.locator('#produce-result .error', { hasText: 'schema version 1' }).waitFor({ timeout: 10000 });
  await page.click('#produce button[type=submit]'); // refused before it is sent
  await page.locator('#produce-result .error', { hasText: 'schema version 1' }).waitFor({ timeout: 10000 });
  await page.fill('#produce input[name=id]', 'pay-1');
  await page.fill('#produce textarea[name=data]', '{"amount":12.5}');
  await page.click('#check');
  await page.locator('#produce-result', { hasText: 'Matches schema version 1' }).waitFor({ timeout: 10000 });
  await page.click('#produce button[type=submit]');
  await page.locator('#produce-result').getByText('Appended pay-1').waitFor({ timeout: 10000 });
  await page.selectOption('#produce select[name=stream]', 'orders');
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
