// A real browser for the dashboard's tests and bench: Debian's Chromium, headless, driven by
// playwright-core (which downloads nothing), with a fresh profile each time. Tests that need it
// skip with the reason when /usr/bin/chromium is missing; CI installs it.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'

export const CHROMIUM = process.env.LAMBKIN_CHROMIUM ?? '/usr/bin/chromium'
/** Headless, no sandbox (we run as root here), nothing that calls home or updates itself. */
export const CHROMIUM_ARGS = Object.freeze(['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'])

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing (): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set LAMBKIN_CHROMIUM)`
}

export interface TestBrowser {
  context: BrowserContext
  /** A new tab; console errors and page errors are collected in `errors`. */
  page: (viewport?: { width: number, height: number }) => Promise<Page>
  errors: string[]
  close: () => Promise<void>
}

export async function openBrowser (): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'lambkin-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 }
  })
  const errors: string[] = []
  return {
    context,
    errors,
    page: async (viewport) => {
      const p = await context.newPage()
      if (viewport !== undefined) await p.setViewportSize(viewport)
      p.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`) })
      p.on('pageerror', (e) => errors.push(`page: ${e.message}`))
      return p
    },
    close: async () => {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/**
 * Waits until `expression` (JavaScript run in the page, as a string: the test project has no
 * DOM types) is truthy, and returns its value. Polled from here, because the page's
 * Content-Security-Policy forbids the eval that page.waitForFunction would use.
 */
export async function waitInPage<T = unknown> (page: Page, expression: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await page.evaluate(expression) as T
    if (v !== undefined && v !== null && v !== false && v !== '' && v !== 0) return v
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting in the page for: ${expression}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Signs in through the login form with `token`. */
export async function signIn (page: Page, url: string, token: string): Promise<void> {
  await page.goto(url)
  await page.getByLabel('Operator token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/** Where screenshots go: a folder under the system temp folder, printed once. */
let shots: string | undefined
export async function screenshot (page: Page, name: string): Promise<string> {
  if (shots === undefined) {
    shots = process.env.LAMBKIN_SCREENSHOTS ?? path.join(tmpdir(), 'lambkin-dashboard-screenshots')
    mkdirSync(shots, { recursive: true })
    console.log(`dashboard screenshots in ${shots}`)
  }
  const file = path.join(shots, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}
