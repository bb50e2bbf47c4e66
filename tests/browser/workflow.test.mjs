// The clinician's workflow in a real browser, as a new user would meet it: log in, search across
// scripts, register (meeting the duplicate warning), screen with the symptom review and PHQ-9
// (item 9 "several days"), see the self-harm alert and the urgent pathway, record the decision,
// and see the person's timeline. Once in English and once in Russian; screenshots are saved under
// target/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHamroh, launchBrowser, seriousViolations, screenshots } from './harness.mjs';

const TEXT = {
  en: { flag: /thoughts of self-harm/i, duplicates: /may already be registered/i, urgent: /Urgent assessment today/ },
  ru: { flag: /мысли о самоповреждении/i, duplicates: /уже зарегистрирован/i, urgent: /Срочная оценка сегодня/ },
};

async function shot(page, lang, name) {
  await page.screenshot({ path: join(screenshots, `${lang}-${name}.png`), fullPage: true });
}

async function accessible(page, what) {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${what}: serious accessibility violations`);
}

for (const lang of ['en', 'ru']) {
  test(`clinician workflow in ${lang}`, { timeout: 180_000 }, async () => {
    const hamroh = await startHamroh();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ bypassCSP: true, locale: lang, viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      const t = TEXT[lang];

      // Log in.
      await page.goto(`${hamroh.url}/login?lang=${lang}`);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await accessible(page, 'login');
      await shot(page, lang, '01-login');
      await page.fill('#username', 'clinician');
      await page.fill('#password', 'demo-clinician-pass');
      await Promise.all([page.waitForURL(`${hamroh.url}/`), page.click('main button[type=submit]')]);

      // Search in Latin script for names written in Tajik Cyrillic.
      await page.fill('#q', 'Rahimov');
      await Promise.all([page.waitForURL(/\/persons\?q=/), page.click('main form[role=search] button')]);
      const rows = page.locator('main table tbody tr');
      assert.ok((await rows.count()) >= 1, 'a Latin query finds Cyrillic names');
      await accessible(page, 'search');
      await shot(page, lang, '02-search');
      const cells = rows.first().locator('td');
      const [family, given] = (await cells.nth(1).innerText()).split(' ');
      const birthYear = await cells.nth(3).innerText();

      // Register the same person again: the duplicate warning comes first.
      await page.click('main a.button[href^="/persons/new"]');
      await page.waitForSelector('#family_name');
      await page.fill('#family_name', family.replace('ҳ', 'х'));
      await page.fill('#given_name', given ?? '');
      await page.check('input[name=sex][value=male]');
      await page.fill('#birth_year', birthYear);
      await page.selectOption('#district', 'TJ-KT.kulob');
      await page.selectOption('#ep-country', 'RU');
      await page.fill('#ep-from', '2019');
      await page.fill('#ep-to', '2025');
      await page.selectOption('#ep-sector', 'construction');
      await accessible(page, 'register');
      await shot(page, lang, '03-register');
      await page.click('main form button[type=submit]');
      await page.waitForSelector('#dup-title');
      assert.match(await page.innerText('#dup-title'), t.duplicates);
      assert.equal(await page.inputValue('#ep-from'), '2019', 'nothing typed is lost');
      await shot(page, lang, '04-duplicates');
      await Promise.all([page.waitForURL(/\/persons\/[0-9a-f-]{36}$/), page.click('main form button[type=submit]')]);
      const personUrl = page.url();

      // Screen: the symptom review is offered first; add PHQ-9; questions in Tajik for the respondent.
      await page.click('main a.button[href$="/screen"]');
      assert.ok(await page.isChecked('input[name=instrument][value=symptom_review]'));
      await page.check('input[name=instrument][value=phq9]');
      await page.selectOption('#respondent-lang', 'tg');
      await Promise.all([page.waitForURL(/instrument=/), page.click('main form button[type=submit]')]);
      const reviewItems = await page.locator('fieldset.item[id^="symptom_review."]').count();
      for (let n = 1; n <= reviewItems; n++) {
        const value = n === 1 || n === 6 ? '1' : '0';
        await page.check(`input[name="symptom_review.${n}"][value="${value}"]`);
      }
      for (let n = 1; n <= 8; n++) {
        await page.check(`input[name="phq9.${n}"][value="0"]`);
      }
      // Item 9 left out: the form is refused and the item marked.
      await page.click('main form button[type=submit]');
      await page.waitForSelector('fieldset.item.invalid');
      assert.equal(await page.getAttribute('fieldset.item.invalid', 'id'), 'phq9.9');
      assert.ok(await page.isChecked('input[name="phq9.1"][value="0"]'), 'answers are kept');
      await accessible(page, 'screening form');
      await shot(page, lang, '05-screen-incomplete');
      await page.check('input[name="phq9.9"][value="1"]');
      await Promise.all([page.waitForURL(/\/encounters\//), page.click('main form button[type=submit]')]);

      // Results: the red flag first, then the urgent pathway.
      const alert = page.locator('.red-flag[role=alert]');
      assert.equal(await alert.count(), 1);
      assert.match(await alert.innerText(), t.flag);
      const first = page.locator('ol.pathway li').first();
      assert.match(await first.getAttribute('class'), /urgent/);
      assert.match(await first.innerText(), t.urgent);
      assert.match(await first.innerText(), /self_harm/);
      await accessible(page, 'results');
      await shot(page, lang, '06-results');
      await page.check('input[name=choice][value=follow]');
      await page.click('main form[action$="/decision"] button[type=submit]');
      await page.waitForSelector('.notice[role=status]');
      await shot(page, lang, '07-decision');

      // The timeline: a chart per instrument and the encounter with its decision.
      await page.goto(personUrl);
      assert.ok((await page.locator('svg.chart').count()) >= 2, 'charts for the symptom review and PHQ-9');
      assert.ok((await page.locator('main table tbody tr').count()) >= 1);
      await accessible(page, 'person');
      await shot(page, lang, '08-timeline');

      // The red flag no longer waits on the home page once a decision is recorded.
      await page.goto(`${hamroh.url}/`);
      assert.equal(await page.locator(`a[href="${new URL(page.url()).origin}"]`).count(), 0);
    } finally {
      await browser.close();
      await hamroh.stop();
    }
  });
}
