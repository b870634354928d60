/**
 * What the browser tests of the web interface share: the API's address, signing in (one
 * browser context per person: their own cookies) and reading the page. Page code is passed as
 * strings: the tests are compiled without the DOM's types.
 */
import { strict as assert } from 'node:assert';
import type { Browser, Page } from 'puppeteer-core';

/** The API process of the test harness (test/harness/global), which serves the pages under /ui. */
export const base = (): string => process.env.SLIPWAY_TEST_API_URL!;

/** A page in a browser context of its own (its own cookies: one person each), signed in with the token. */
export async function signIn(browser: Browser, token: string): Promise<Page> {
  const page = await (await browser.createBrowserContext()).newPage();
  await page.goto(`${base()}/ui`);
  assert.match(page.url(), /\/ui\/sign-in$/, `signed out: the sign-in page (${page.url()}: ${(await page.content()).slice(0, 300)})`);
  await page.type('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(page.url(), /\/ui\/projects$/);
  return page;
}

/**
 * Runs an expression in the page (a string: this file is compiled without the DOM's types) on
 * the first element `selector` finds, `el`; null when none.
 */
export const onElement = async (page: Page, selector: string, expression: string): Promise<unknown> =>
  page.evaluate(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); return el ? (${expression}) : null; })()`);

/** The element's visible text, whitespace collapsed; '' when there is none. */
export const textOf = async (page: Page, selector: string): Promise<string> => {
  const text = await onElement(page, selector, "el.innerText.replace(/\\s+/g, ' ').trim()");
  return typeof text === 'string' ? text : '';
};

/** An environment's row on the project page. */
export const rowOf = (page: Page, env: string): Promise<string> => textOf(page, `tr[data-environment="${env}"]`);
