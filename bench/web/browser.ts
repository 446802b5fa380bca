// Debian's Chromium for the dashboard bench, headless through playwright-core, with the same
// switches as the browser tests (test/helpers/browser.ts): each context is a fresh profile and
// cache, so every first load is a cold one.
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const CHROMIUM = process.env.LAMBKIN_CHROMIUM ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function launch (): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set LAMBKIN_CHROMIUM)`)
  return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
}
