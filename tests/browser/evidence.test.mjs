// An analyst uses the evidence dashboard as a new user would: opens it from the menu, switches to
// Russian, sees a chart and the map, downloads a CSV; and cannot open anyone's page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHamroh, launchBrowser, seriousViolations, screenshots } from './harness.mjs';

test('analyst dashboard', { timeout: 180_000 }, async () => {
  const hamroh = await startHamroh({ people: 400 });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ bypassCSP: true, acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${hamroh.url}/login?lang=en`);
    await page.fill('#username', 'analyst');
    await page.fill('#password', 'demo-analyst-pass');
    await Promise.all([page.waitForURL(`${hamroh.url}/`), page.click('main button[type=submit]')]);

    await Promise.all([page.waitForURL(/\/dashboard/), page.click('nav >> text=Evidence')]);
    await page.click('nav.langs >> text=Русский');
    await page.waitForSelector('h1:has-text("Данные для политики")');

    // A whole year by region: a line over time, bars by region and the map.
    await page.fill('#from', '2025-01');
    await page.fill('#to', '2025-12');
    await page.selectOption('#period', 'quarter');
    await page.selectOption('#by', 'region');
    await Promise.all([page.waitForURL(/from=2025-01/), page.click('main form button[type=submit]')]);
    const registered = page.locator('#indicator-registered');
    await registered.locator('svg[role=img]').first().waitFor();
    assert.ok(await registered.locator('path[data-region="TJ-KT"]').count() === 1, 'the map shows Khatlon');
    assert.ok(await registered.locator('svg[role=img] polyline').count() >= 1, 'a line over the quarters');
    const table = await registered.locator('table').innerText();
    assert.match(table, /Хатлон/);
    assert.match(table, /Всего/);
    await page.screenshot({ path: join(screenshots, 'evidence-dashboard-ru.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Скачать CSV')]);
    assert.match(download.suggestedFilename(), /^hamroh-indicators-202501-202512\.csv$/);
    const csv = await (await download.createReadStream()).toArray();
    const lines = Buffer.concat(csv).toString('utf8').trim().split('\n');
    assert.equal(lines[0], 'indicator,version,period,breakdown,category,category_label,value,numerator,denominator,suppressed,k');
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      for (const figure of [f[7], f[8]].filter((x) => x !== '')) {
        assert.ok(Number(figure) >= 5, `a published count below 5: ${line}`);
      }
    }
    assert.ok(lines.some((l) => l.startsWith('registered,1,2025Q') && l.includes(',TJ-KT,')), 'Khatlon by quarter');

    // An analyst never sees a person: the person pages answer 403.
    const response = await page.goto(`${hamroh.url}/persons`);
    assert.equal(response.status(), 403);
  } finally {
    await browser.close();
    await hamroh.stop();
  }
});
