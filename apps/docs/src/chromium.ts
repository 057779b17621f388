import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where the browser test looks for Chromium: `$SBM_CHROMIUM`, else Debian's `chromium` package. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SBM_CHROMIUM ?? '/usr/bin/chromium';
}

/** Why Chromium cannot be used here, or `undefined` when its executable exists. */
export function chromiumMissingReason(path: string = chromiumPath()): string | undefined {
  if (existsSync(path)) return undefined;
  return (
    `no Chromium at ${path}: install Debian's package (\`apt-get install -y chromium\`; .ci/run does this when it ` +
    'runs as root) or point SBM_CHROMIUM at a Chromium executable'
  );
}

/**
 * Starts headless Chromium from `path` (no browser is downloaded). The flags keep it off the network, which these
 * machines close: no background networking, component updates, sync or QUIC; a fresh profile each time.
 */
export async function launchChromium(path: string = chromiumPath()): Promise<Browser> {
  return chromium.launch({
    executablePath: path,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}
