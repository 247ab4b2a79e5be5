// Headless Chromium (Debian's `chromium`, installed by .ci/run) driven by
// playwright-core, which brings no browser of its own. Run directly, it
// screenshots a report: node --import tsx kit/test/helpers/browser.ts <report.html> <out.png>
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/**
 * A fresh profile in `userDataDir`, a wide window: service and baseline side
 * by side. The caller owns the folder: a test passes one under its
 * `t.testdir()` (removed with the test), the screenshot script removes its own.
 */
export async function launch (userDataDir: string): Promise<BrowserContext> {
  return await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1920, height: 1080 },
    deviceScaleFactor: 1
  })
}

/**
 * Opens a report file; every request the page makes other than the file
 * itself is refused and recorded, so a report that needs the network shows.
 */
export async function openReport (context: BrowserContext, file: string): Promise<{ page: Page, external: string[] }> {
  const page = await context.newPage()
  const url = pathToFileURL(resolve(file)).href
  const external: string[] = []
  await page.route('**/*', async (route) => {
    if (route.request().url() === url) await route.continue()
    else {
      external.push(route.request().url())
      await route.abort()
    }
  })
  await page.goto(url, { waitUntil: 'load' })
  return { page, external }
}

/** The first scenario's runs (the part worth a picture), or the whole page. */
export async function screenshot (page: Page, path: string): Promise<void> {
  const pair = page.locator('.pair').first()
  if (await pair.count() === 0) await page.screenshot({ path, fullPage: true })
  else await pair.screenshot({ path })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, out] = process.argv.slice(2) as [string, string]
  // Run as a script there is no test folder: a temporary profile, removed
  // once Chromium closed (it writes to it until then).
  const profile = await mkdtemp(join(tmpdir(), 'fzd-chromium-'))
  try {
    const context = await launch(profile)
    try {
      const { page } = await openReport(context, file)
      await screenshot(page, out)
    } finally {
      await context.close()
    }
  } finally {
    await rm(profile, { recursive: true, force: true })
  }
}
