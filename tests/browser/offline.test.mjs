// A clinician sets up a tablet for offline screening as a new user would: on a phone, in Tajik,
// opens the account page, creates a device key and sees the server address and its QR code. A
// client speaking as ODK Collect does then lists and downloads the forms and sends a PHQ-9 filled
// offline days ago with thoughts of self-harm; the clinic's worklist shows the person at the top,
// to be contacted today. Screenshots under target/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startHamroh, launchBrowser, seriousViolations, screenshots } from './harness.mjs';

test('a device set up from the account page sends a screening that reaches the worklist', { timeout: 240_000 }, async () => {
  const hamroh = await startHamroh();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ bypassCSP: true, locale: 'tg', viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await page.goto(`${hamroh.url}/login?lang=tg`);
    await page.fill('#username', 'clinician');
    await page.fill('#password', 'demo-clinician-pass');
    await Promise.all([page.waitForURL(`${hamroh.url}/`), page.click('main button[type=submit]')]);

    // Whom the tablet will screen: a person of the clinic, by name.
    await page.fill('#q', 'Rahimov');
    await Promise.all([page.waitForURL(/\/persons\?q=/), page.click('main form[role=search] button')]);
    await Promise.all([page.waitForURL(/\/persons\/[0-9a-f-]{36}$/), page.locator('main table tbody tr a').first().click()]);
    const code = (await page.innerText('h1')).split(' · ')[0].trim();
    assert.match(code, /^HM-[0-9A-Z]{4}-[0-9A-Z]{4}$/);

    await page.goto(`${hamroh.url}/account`);
    const devices = page.locator('#devices');
    assert.match(await devices.locator('h2').innerText(), /ODK Collect/);
    await devices.locator('input[name=name]').fill('планшет 3');
    await devices.locator('button[type=submit]').click();
    const url = (await page.locator('#device-url').innerText()).trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/openrosa\/key\/hmr_[0-9a-f]+$/);
    assert.equal(await page.locator('#devices figure.qr svg').count(), 1, 'the QR code ODK Collect scans');
    await page.screenshot({ path: join(screenshots, 'offline-device-key-tg.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);

    // The device: the form list, then the form at its downloadUrl, its MD5 as listed.
    const headers = { 'X-OpenRosa-Version': '1.0', 'Accept-Language': 'tg' };
    const list = await fetch(`${url}/formList`, { headers });
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('x-openrosa-version'), '1.0');
    const xml = await list.text();
    const entry = xml.split('<xform>').find((e) => e.includes('<formID>phq9</formID>'));
    const downloadUrl = entry.match(/<downloadUrl>([^<]+)<\/downloadUrl>/)[1];
    const hash = entry.match(/<hash>md5:([0-9a-f]+)<\/hash>/)[1];
    const form = Buffer.from(await (await fetch(downloadUrl, { headers })).arrayBuffer());
    assert.equal(createHash('md5').update(form).digest('hex'), hash);
    assert.match(form.toString('utf8'), /<translation lang="Тоҷикӣ \(tg\)" default="true\(\)">/);
    const head = await fetch(`${url}/submission`, { method: 'HEAD', headers });
    assert.equal(head.status, 204);

    // Filled three days ago, item 9 "several days".
    const at = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const items = [0, 1, 1, 0, 0, 0, 0, 0, 1].map((v, n) => `<q${n + 1}>${v}</q${n + 1}>`).join('');
    const instance = `<?xml version="1.0"?><data id="phq9"><person_code_scan/><person_code_typed>${code}</person_code_typed><person_code>${code}</person_code><respondent_lang>tg</respondent_lang><interview_at>${at}</interview_at><phq9><instructions/>${items}<q10/></phq9><meta><instanceID>uuid:${randomUUID()}</instanceID></meta></data>`;
    const body = new FormData();
    body.append('xml_submission_file', new Blob([instance], { type: 'text/xml' }), 'submission.xml');
    const sent = await fetch(`${url}/submission`, { method: 'POST', headers, body });
    assert.equal(sent.status, 201, await sent.text());
    const again = new FormData();
    again.append('xml_submission_file', new Blob([instance], { type: 'text/xml' }), 'submission.xml');
    assert.equal((await fetch(`${url}/submission`, { method: 'POST', headers, body: again })).status, 202, 'sent again: stored once');

    // Back in the clinic: the person tops the worklist, to be called today.
    await page.goto(`${hamroh.url}/worklist`);
    const first = page.locator('main section').first();
    assert.equal(await first.getAttribute('aria-labelledby'), 'red-flags');
    const row = first.locator('li', { hasText: code });
    assert.equal(await row.count(), 1, 'the flag from the tablet waits for its assessment');
    assert.match(await row.innerText(), /имрӯз бо шахс тамос гиред/, 'contact today, in Tajik');
    await page.screenshot({ path: join(screenshots, 'offline-worklist-tg.png'), fullPage: true });

    // Revoked, the key opens nothing.
    await page.goto(`${hamroh.url}/account`);
    await page.locator('form[action$="/revoke"] button').first().click();
    assert.equal((await fetch(`${url}/formList`, { headers })).status, 401);
  } finally {
    await browser.close();
    await hamroh.stop();
  }
});
