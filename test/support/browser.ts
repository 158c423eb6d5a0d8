import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './appProcess';

/**
 * Headless Chromium for the console's tests, driven by playwright-core
 * (which downloads no browser of its own). Which one, in this order:
 *
 * - `CHROMIUM_PATH`, when set: the path of a Chromium or Chrome, or
 *   `bundled` for the one below;
 * - the system's `/usr/bin/chromium` (Debian: `apt-get install chromium`),
 *   when it is installed;
 * - else the Chromium that the npm package @sparticuz/chromium ships inside
 *   it (a devDependency, so `npm install` brings it), extracted once into
 *   node_modules/.cache (a few seconds) and started with the package's flags.
 *
 * A browser that cannot start fails the test: the console's tests never skip.
 */

export interface ChromiumChoice {
  /** Where it comes from, for messages: `CHROMIUM_PATH`, the system's package, or the npm package. */
  readonly source: 'CHROMIUM_PATH' | 'system' | 'bundled';
  readonly executablePath: string;
  readonly args: readonly string[];
}

export const systemChromiumPath = '/usr/bin/chromium';
/** Extracting the bundled browser takes seconds; this is the bound on a busy machine. */
const extractTimeoutMs = 120_000;
const launchTimeoutMs = 60_000;

export async function launchChromium(): Promise<Browser> {
  const choice = await chooseChromium();
  try {
    return await chromium.launch({ executablePath: choice.executablePath, args: [...choice.args], timeout: launchTimeoutMs });
  } catch (error) {
    throw new Error(
      `Chromium (${choice.source}, ${choice.executablePath}) could not start: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export async function chooseChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumChoice> {
  const configured = env['CHROMIUM_PATH'];
  if (configured === 'bundled') return bundledChromium();
  if (configured !== undefined && configured !== '') {
    if (!isExecutable(configured)) {
      throw new Error(`CHROMIUM_PATH is "${configured}", which is not an executable file (unset it to use ${systemChromiumPath} or the bundled Chromium, or set it to "bundled")`);
    }
    return { source: 'CHROMIUM_PATH', executablePath: configured, args: [] };
  }
  if (isExecutable(systemChromiumPath)) return { source: 'system', executablePath: systemChromiumPath, args: [] };
  return bundledChromium();
}

async function bundledChromium(): Promise<ChromiumChoice> {
  // The package is an ES module; Node 20.19+ and 22.12+ load it with require().
  const { default: sparticuz } = await import('@sparticuz/chromium');
  return { source: 'bundled', executablePath: await extractBundledChromium(), args: sparticuz.args };
}

/**
 * The bundled browser's executable, extracted into a folder named after the
 * package's version. Each extraction goes to a fresh folder that is renamed
 * into place, so two test files starting at once never see half a browser.
 */
async function extractBundledChromium(): Promise<string> {
  const packageRoot = path.dirname(path.dirname(require.resolve('@sparticuz/chromium')));
  const { version } = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const cache = path.join(repoRoot, 'node_modules', '.cache', 'proactive-notifications-bot');
  const target = path.join(cache, `chromium-${version}`);
  const executable = path.join(target, 'chromium');
  if (isExecutable(executable)) return executable;

  await mkdir(cache, { recursive: true });
  const staging = await mkdtemp(path.join(cache, 'extracting-'));
  try {
    await promisify(execFile)(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'extractChromium.js')], {
      env: { ...process.env, TMPDIR: staging },
      timeout: extractTimeoutMs,
    });
    await rename(staging, target);
  } catch (error) {
    // Another test process got there first: its browser is as good.
    if (isExecutable(executable)) return executable;
    throw new Error(`could not extract the Chromium of @sparticuz/chromium: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return executable;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/**
 * Runs axe-core in the page (the whole document, WCAG 2.x A/AA rules and best
 * practices) and returns the violations whose impact is serious or critical.
 * The script goes in through the DevTools protocol, so the page's content
 * security policy stays as strict as in production.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(`
    axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map((node) => ({ target: node.target })) })),
    )
  `)) as AxeViolation[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/**
 * Waits until a JavaScript expression is truthy in the page. Playwright's
 * waitForFunction evaluates string predicates with eval, which the console's
 * content security policy forbids; this asks through the DevTools protocol.
 */
export async function waitForExpression(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`the page did not reach \`${expression}\` within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
