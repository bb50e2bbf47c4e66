// A service without a Hamroh account answers its referral through a link, on a phone: the
// clinician refers a returnee to the small-business fund (not on Hamroh) with a note, creates the
// link and prints the slip with its QR code; the fund's officer opens the link on a phone-sized
// screen without logging in, sees the note, the name and the phone (the person consented to share
// with that sector), accepts, records attendance and the outcome; the clinician sees every step.
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

test('a service without an account answers through its link on a phone', { timeout: 180_000 }, async () => {
  const hamroh = await startHamroh();
  const browser = await launchBrowser();
  try {
    const desk = await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } });
    const page = await desk.newPage();
    await login(page, hamroh.url, 'clinician');
    await page.goto(`${hamroh.url}/persons/new`);
    await page.fill('#given_name', 'Bahrom');
    await page.fill('#family_name', 'Linkov');
    await page.fill('#phone', '+992 93 555 12 34');
    await page.check('input[name=sex][value=male]');
    await page.fill('#birth_year', '1983');
    await page.selectOption('#district', 'TJ-KT.kulob');
    await page.check('input[name=consent][value="sector:small_business"]');
    await Promise.all([page.waitForURL(/\/persons\/[0-9a-f-]{36}$/), page.click('main form button[type=submit]')]);
    await page.goto(`${page.url()}/refer`);
    await page.locator('label.choice', { hasText: 'Small-business grants' }).locator('input').check();
    await page.fill('#reason', 'Start-up grant after a work injury');
    await page.fill('#note', 'Has a plan for a tailoring workshop');
    await Promise.all([page.waitForURL(/\/referrals\/[0-9a-f-]{36}$/), page.click('main form button[type=submit]')]);
    const referralUrl = page.url();

    // The link, on the printable slip with its QR code.
    await page.click('text=Create the link and print the slip');
    await page.waitForSelector('.qr svg');
    const link = await page.getAttribute('.slip-url a', 'href');
    assert.match(link, /\/r\/[0-9a-f]{64}$/);
    await page.screenshot({ path: join(screenshots, 'partner-01-slip.png'), fullPage: true });

    // The fund's officer, on a basic phone, without an account.
    const phone = await browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 640 }, isMobile: true });
    const officer = await phone.newPage();
    await officer.goto(`${link}?lang=en`);
    const main = await officer.innerText('main');
    assert.match(main, /Has a plan for a tailoring workshop/);
    assert.match(main, /Bahrom Linkov/, 'the consent covers the sector: the name is shown');
    assert.match(main, /\+992935551234|\+992 93 555 12 34/, 'and the phone');
    assert.doesNotMatch(main, /Log out/);
    const width = await officer.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `no sideways scrolling on a phone (${width}px)`);
    assert.deepEqual(await seriousViolations(officer), []);
    await officer.click('form.step:has(input[value=accept]) button');
    await officer.waitForSelector('form.step:has(input[value=attend])');
    await officer.screenshot({ path: join(screenshots, 'partner-02-phone-accepted.png'), fullPage: true });
    await officer.click('form.step:has(input[value=attend]) button');
    await officer.fill('#outcome-close', 'Grant approved, workshop opens in May');
    await officer.click('form.step:has(input[value=close]) button');
    await officer.waitForSelector('text=Recorded: the referral is now closed');
    await officer.screenshot({ path: join(screenshots, 'partner-03-phone-done.png'), fullPage: true });
    // Finished: the link opens nothing more.
    const again = await officer.goto(`${link}?lang=en`);
    assert.equal(again.status(), 410);

    // The clinician sees every step and the outcome.
    await page.goto(referralUrl);
    const seen = await page.innerText('main');
    assert.match(seen, /Grant approved, workshop opens in May/);
    for (const step of ['accepted', 'attended', 'closed']) assert.match(seen, new RegExp(step));
    assert.match(seen, /used 3 times/);
    await page.screenshot({ path: join(screenshots, 'partner-04-sender.png'), fullPage: true });
  } finally {
    await browser.close();
    await hamroh.stop();
  }
});
