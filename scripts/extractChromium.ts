import chromium from '@sparticuz/chromium';

/**
 * Extracts the Chromium that the npm package @sparticuz/chromium ships (a
 * devDependency) and prints the executable's path, for the console's tests
 * on a machine without a Chromium of its own (test/support/browser.ts runs
 * this; `npm install` is all it needs, nothing is downloaded).
 *
 *   TMPDIR=<empty folder> node dist/scripts/extractChromium.js
 *
 * The package extracts into the temporary folder (browser, graphics
 * libraries and fonts side by side), and takes an existing
 * `<tmp>/chromium` as already extracted, even half-written by another
 * process: hence a folder of this run's own, given through TMPDIR.
 */
async function main(): Promise<void> {
  process.stdout.write(`${await chromium.executablePath()}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
