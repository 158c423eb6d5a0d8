import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Headless Chromium from the system's package (Debian: `apt-get install
 * chromium`; `.ci/run` installs it), driven by playwright-core, which
 * downloads no browser of its own. A browser that cannot start fails the
 * test: the console's tests never skip.
 */

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: chromiumPath, timeout: 60_000 });
  } catch (error) {
    throw new Error(
      `Chromium could not start from ${chromiumPath} (install it with \`apt-get install chromium\`, or set CHROMIUM_PATH): ${error instanceof Error ? error.message : String(error)}`,
    );
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
