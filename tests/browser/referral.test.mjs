// The referral loop in a real browser: a clinician refers a person to a rehabilitation service of
// another organisation; a case worker there accepts and records attendance; the clinician sees the
// outcome; a second referral is declined with a barrier and shows in the coordinator's view, beside
// overdue follow-ups escalated from the demo data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHamroh, launchBrowser, seriousViolations, screenshots } from './harness.mjs';

async function login(page, url, username) {
  await page.context().clearCookies();
  await page.goto(`${url}/login?lang=en`);
  await page.fill('#username', username);
  await page.fill('#password', `demo-${username}-pass`);
  await Promise.all([page.waitForURL(`${url}/`), page.click('main button[type=submit]')]);
}

async function refer(page, url, personUrl) {
  await page.goto(`${personUrl}/refer`);
  const rehab = page.locator('label.choice', { hasText: 'Physical rehabilitation' }).locator('input');
  await rehab.check();
  await page.fill('#reason', 'Disability after a work injury (WG-SS)');
  await Promise.all([page.waitForURL(/\/referrals\/[0-9a-f-]{36}$/), page.click('main form button[type=submit]')]);
  return { url: page.url(), code: (await page.innerText('h1')).split(' ').pop() };
}

test('referral loop across organisations', { timeout: 180_000 }, async () => {
  const hamroh = await startHamroh();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const shot = (name) => page.screenshot({ path: join(screenshots, `referral-${name}.png`), fullPage: true });

    // The clinician registers a person who consents to sharing with rehabilitation services.
    await login(page, hamroh.url, 'clinician');
    await page.goto(`${hamroh.url}/persons/new`);
    await page.fill('#family_name', 'Testov');
    await page.check('input[name=sex][value=male]');
    await page.fill('#birth_year', '1984');
    await page.selectOption('#district', 'TJ-KT.kulob');
    await page.check('input[name=consent][value="sector:rehabilitation"]');
    await Promise.all([page.waitForURL(/\/persons\/[0-9a-f-]{36}$/), page.click('main form button[type=submit]')]);
    const personUrl = page.url();

    const first = await refer(page, hamroh.url, personUrl);
    await shot('01-sent');

    // The case worker at the rehabilitation centre sees it in the inbox, accepts, records attendance.
    await login(page, hamroh.url, 'caseworker');
    await page.goto(`${hamroh.url}/worklist`);
    assert.ok((await page.innerText('#inbox + ul')).includes(first.code), 'in the inbox at once');
    assert.deepEqual(await seriousViolations(page), []);
    await page.goto(first.url);
    await page.click('form.step:has(input[value=accept]) button');
    await page.click('form.step:has(input[value=attend]) button');
    await page.fill('#outcome-close', 'Physiotherapy course started');
    await page.click('form.step:has(input[value=close]) button');
    await page.waitForSelector('text=Physiotherapy course started');
    await shot('02-receiver-closed');

    // The clinician sees the outcome.
    await login(page, hamroh.url, 'clinician');
    await page.goto(first.url);
    assert.match(await page.innerText('main'), /closed/);
    assert.match(await page.innerText('main'), /Physiotherapy course started/);
    await shot('03-sender-sees-outcome');

    // A second referral is declined with a barrier.
    const second = await refer(page, hamroh.url, personUrl);
    await login(page, hamroh.url, 'caseworker');
    await page.goto(second.url);
    await page.fill('#reason-decline', 'No places before spring');
    await page.selectOption('#barrier-decline', 'cost');
    await page.click('form.step:has(input[value=decline]) button');
    await page.waitForSelector('text=No places before spring');

    // The coordinator sees the declined referral with its barrier, and escalated follow-ups.
    await login(page, hamroh.url, 'coordinator');
    await page.goto(`${hamroh.url}/worklist`);
    const barriers = await page.innerText('#barriers + ul');
    assert.ok(barriers.includes(second.code) && /Cost/.test(barriers), barriers);
    const lateHeading = await page.innerText('#late-follow-ups');
    assert.match(lateHeading, /\([1-9][0-9]*\+? follow-ups?\)/, 'overdue follow-ups from the demo data escalate, counted as such');
    const late = await page.innerText('#late-follow-ups + ul');
    assert.ok(late.trim().length > 0, 'and are listed, each with its organisation');
    assert.deepEqual(await seriousViolations(page), []);
    await shot('04-coordinator');
    // A declined referral opens as the coordinator may see it: parties and steps, no clinical content.
    await page.click(`#barriers + ul a:has-text("${second.code}")`);
    await page.waitForSelector('h1');
    assert.ok((await page.innerText('h1')).includes(second.code));
    assert.ok(!(await page.content()).includes('No places before spring'), 'the step reason stays with the organisations');
  } finally {
    await browser.close();
    await hamroh.stop();
  }
});
