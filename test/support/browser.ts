// Headless Chromium for the dashboard's tests: Debian's package, driven by
// playwright-core (no browser download). One place for where it lives, the
// flags a container needs.
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startKeyward, type RunningKeyward } from "./keyward.js";

const CHROMIUM = "/usr/bin/chromium";

/** CI installs Chromium, so there a missing browser fails the tests rather than skipping them. */
export const NO_BROWSER = !existsSync(CHROMIUM) && !process.env.CI;

/** Starts Chromium (the dashboard it loads, web/dist, is built by the globalSetup: test/support/build.ts). */
export async function launchDashboardBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox: tests run as root in containers. The rest keeps Chromium off the network and quiet.
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
}

/** A desktop-sized page context, the size the README's screenshots are taken at. */
export const desktopContext = (browser: Browser): Promise<BrowserContext> => browser.newContext({ viewport: { width: 1200, height: 800 } });

/** What most dashboard tests drive: Chromium on a desktop-sized page, and Keyward on embedded PGlite. */
export interface Dashboard {
  kw: RunningKeyward;
  page: Page;
  /** Closes Chromium, then stops Keyward. */
  close(): Promise<void>;
}

export async function openDashboard(): Promise<Dashboard> {
  const browser = await launchDashboardBrowser();
  try {
    const kw = await startKeyward({ kind: "pglite" });
    const page = await (await desktopContext(browser)).newPage();
    return {
      kw,
      page,
      close: async () => {
        await browser.close();
        await kw.close();
      },
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** Opens the dashboard and signs in with Keyward's admin key. */
export async function signIn(page: Page, kw: RunningKeyward): Promise<void> {
  await page.goto(kw.url);
  await page.getByLabel("Admin key").fill(kw.adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
}
