import type { Browser, Page } from 'playwright-core';

/** HeadlessChromium is a Chromium started for a UI test, with one 1280×900 page. */
export interface HeadlessChromium {
  readonly browser: Browser;
  readonly page: Page;
}

/**
 * launchChromium starts headless Chromium through playwright-core (loaded only here) with one
 * 1280×900 page. Get bin from `requireBinary('chromium')`; close the browser when done.
 */
export async function launchChromium(bin: string): Promise<HeadlessChromium> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: bin, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  return { browser, page };
}
