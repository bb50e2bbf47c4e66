// The self-harm safety loop in a real browser: a PHQ-9 with item 9 = 2 puts the person at the top
// of the home page, the person page and the worklist; a decision alone (another choice) keeps the
// flag and the weekly calls; the safety assessment clears it; a flag sent through the API asks
// for contact today; an unassessed flag escalates to the coordinators once the clock passes the
// limit (`hamroh safety-net --at`). Screenshots under target/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startHamroh, launchBrowser, seriousViolations, screenshots } from './harness.mjs';

async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `safety-${name}.png`), fullPage: true });
}

async function logIn(page, url, user) {
  await page.goto(`${url}/login?lang=en`);
  await page.fill('#username', user);
  await page.fill('#password', `demo-${user}-pass`);
  await Promise.all([page.waitForURL(`${url}/`), page.click('main button[type=submit]')]);
}

test('a self-harm flag is cleared only by its safety assessment, and escalates when left', { timeout: 240_000 }, async () => {
  const hamroh = await startHamroh();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ bypassCSP: true, locale: 'en', viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    await logIn(page, hamroh.url, 'clinician');

    // A person of the clinic, screened with the PHQ-9 alone, item 9 "more than half the days".
    await page.fill('#q', 'Rahimov');
    await Promise.all([page.waitForURL(/\/persons\?q=/), page.click('main form[role=search] button')]);
    await Promise.all([page.waitForURL(/\/persons\/[0-9a-f-]{36}$/), page.locator('main table tbody tr a').first().click()]);
    const personUrl = page.url();
    const personId = personUrl.split('/').pop();
    const code = (await page.innerText('h1')).split(' · ')[0].trim();
    await page.click('main a.button[href$="/screen"]');
    await page.uncheck('input[name=instrument][value=symptom_review]');
    await page.check('input[name=instrument][value=phq9]');
    await Promise.all([page.waitForURL(/instrument=/), page.click('main form button[type=submit]')]);
    for (let n = 1; n <= 8; n++) {
      await page.check(`input[name="phq9.${n}"][value="0"]`);
    }
    await page.check('input[name="phq9.9"][value="2"]');
    await Promise.all([page.waitForURL(/\/encounters\//), page.click('main form button[type=submit]')]);
    const encounterUrl = page.url().split('#')[0];
    assert.equal(await page.locator('#safety').count(), 1, 'the safety assessment is asked for');
    assert.equal(await page.isChecked('input[name=choice][value=follow]'), false, 'nothing is preselected for a red flag');
    assert.match(await page.innerText('main aside.emergency'), /112/, 'the emergency number stands beside the flag');
    await shot(page, '01-results');

    // At the top of home, the person page and the worklist.
    await page.goto(`${hamroh.url}/`);
    assert.match(await page.innerText('main'), new RegExp(code));
    await page.goto(personUrl);
    assert.match(await page.innerText('main .red-flag'), /self-harm/i);
    await page.goto(`${hamroh.url}/worklist`);
    const firstSection = page.locator('main section').first();
    assert.equal(await firstSection.getAttribute('aria-labelledby'), 'red-flags', 'red flags open the worklist');
    assert.match(await firstSection.innerText(), new RegExp(code));
    assert.deepEqual(await seriousViolations(page), [], 'worklist: serious accessibility violations');
    await shot(page, '02-worklist');

    // Another choice, without an assessment: the flag stays, and so do the weekly calls.
    await page.goto(encounterUrl);
    await page.check('input[name=choice][value=other]');
    await page.selectOption('#action', 'manage_in_primary_care');
    await page.fill('#reason', 'she will come back with her husband');
    await page.click('main form[action$="/decision"] button[type=submit]');
    await page.waitForSelector('.notice[role=status]');
    await page.goto(`${hamroh.url}/worklist`);
    assert.match(await page.locator('main section').first().innerText(), new RegExp(code), 'a decision alone keeps the flag');
    const followUps = await (await page.request.get(`${hamroh.url}/api/v1/persons/${personId}/follow-ups`)).json();
    assert.equal(followUps.filter((f) => f.source === 'self_harm' && f.status === 'open').length, 10, 'the self-harm calls are kept');

    // The assessment: a missing answer is shown at its field and nothing typed is lost.
    await page.goto(encounterUrl);
    await page.check('input[name=thoughts][value=yes]');
    await page.check('input[name=plan][value=no]');
    await page.fill('#safety_plan', 'Call her brother; come to the clinic; walking helps; her sister knows.');
    await page.click('#safety form button[type=submit]');
    await page.waitForSelector('#safety .field-error');
    assert.equal(await page.inputValue('#safety_plan'), 'Call her brother; come to the clinic; walking helps; her sister knows.');
    await shot(page, '03-assessment-incomplete');
    await page.check('input[name=act_past_year][value=no]');
    await page.check('input[name=imminent_risk][value=no]');
    await page.check('input[name=means_counselled][value=yes]');
    await page.check('input[name=action][value=manage_in_primary_care]');
    await page.click('#safety form button[type=submit]');
    await page.waitForSelector('text=Safety assessment recorded');
    await page.goto(`${hamroh.url}/worklist`);
    assert.doesNotMatch(await page.locator('main section').first().innerText(), new RegExp(code), 'the assessment clears it');

    // A flag that arrives through the API: contact today.
    const sent = await page.request.post(`${hamroh.url}/api/v1/persons/${personId}/encounters`, {
      data: { screenings: [{ instrument: 'phq9', answers: [0, 0, 0, 0, 0, 0, 0, 0, 1] }] },
    });
    assert.equal(sent.status(), 201);
    await page.goto(`${hamroh.url}/worklist`);
    const row = page.locator('main section').first().locator('li', { hasText: code });
    assert.match(await row.innerText(), /contact the person today/i);
    await shot(page, '04-contact-today');

    // Left unassessed past the limit: escalated to the coordinators.
    const later = new Date(Date.now() + 25 * 3600 * 1000).toISOString();
    execFileSync(hamroh.bin, ['safety-net', '--db', hamroh.db, '--at', later]);
    const coordinator = await (await browser.newContext({ bypassCSP: true, locale: 'en' })).newPage();
    await logIn(coordinator, hamroh.url, 'coordinator');
    await coordinator.goto(`${hamroh.url}/worklist`);
    const escalated = coordinator.locator('section[aria-labelledby="escalated-red-flags"]');
    assert.match(await escalated.innerText(), new RegExp(code));
    await coordinator.screenshot({ path: join(screenshots, 'safety-05-escalated.png'), fullPage: true });

    // GAD-7 asks nothing about self-harm: the form adds the self-harm questions, which the
    // clinician answers or says why not.
    await page.goto(`${personUrl}/screen`);
    await page.uncheck('input[name=instrument][value=symptom_review]');
    await page.check('input[name=instrument][value=gad7]');
    await Promise.all([page.waitForURL(/instrument=/), page.click('main form button[type=submit]')]);
    assert.equal(await page.locator('input[name="self_harm_questions.1"]').count(), 2, 'the self-harm questions are added');
    for (let n = 1; n <= 7; n++) {
      await page.check(`input[name="gad7.${n}"][value="1"]`);
    }
    await page.check('input[name=self_harm_not_asked][value=declined]');
    assert.deepEqual(await seriousViolations(page), [], 'screening form: serious accessibility violations');
    await shot(page, '06-self-harm-questions');
    await Promise.all([page.waitForURL(/\/encounters\//), page.click('main form button[type=submit]')]);
    assert.match(await page.innerText('main'), /Self-harm not asked: the person declined to answer/i);
  } finally {
    await browser.close();
    await hamroh.stop();
  }
});
