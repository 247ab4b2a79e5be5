// Headless Chromium (Debian's `chromium`, installed by .ci/run) driven by
// playwright-core, which brings no browser of its own. Run directly, it
// screenshots a report: node --import tsx kit/test/helpers/browser.ts <report.html> <out.png>
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** A fresh profile in `userDataDir`, a wide window: service and baseline side by side. */
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
  const context = await launch(await mkdtemp(join(tmpdir(), 'fzd-chromium-')))
  try {
    const { page } = await openReport(context, file)
    await screenshot(page, out)
  } finally {
    await context.close()
  }
}
