// A headless Chromium for browser tests, driven by playwright-core (which downloads nothing):
// CHROMIUM_PATH if set, else Debian's /usr/bin/chromium when installed, else the Chromium
// that the @sparticuz/chromium npm package ships (compressed inside the package; unpacked to
// /tmp on first use), so `npm test` needs nothing beyond npm on a fresh machine.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

const SYSTEM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];

export interface LaunchedBrowser {
  browser: Browser;
  /** Where the binary came from, for test names and failure messages. */
  source: string;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit || existsSync(SYSTEM_CHROMIUM)) {
    const executablePath = explicit ?? SYSTEM_CHROMIUM;
    return { browser: await chromium.launch({ executablePath, args: SYSTEM_ARGS }), source: executablePath };
  }
  const packaged = (await import("@sparticuz/chromium")).default;
  const executablePath = await packaged.executablePath();
  return {
    browser: await chromium.launch({
      executablePath,
      args: [...packaged.args, "--disable-background-networking", "--disable-component-update"],
      headless: true,
    }),
    source: `@sparticuz/chromium (${executablePath})`,
  };
}

/** launchChromium() for a test that already started `stack`: when no browser starts, the stack is closed first. */
export async function launchChromiumFor(stack: { close(): Promise<void> }): Promise<LaunchedBrowser> {
  return launchChromium().catch(async (err: unknown) => {
    await stack.close();
    throw err;
  });
}
