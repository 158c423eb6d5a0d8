import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * `npm run build`'s last step: bundles the notification console (web/) into
 * dist/console/ for functions/console.ts to serve. Script and stylesheet get
 * content-hashed names (cached for a year); index.html names them and is
 * never cached. Everything the page needs is in the bundle: no CDN at run time.
 */

const root = path.resolve(__dirname, '..', '..');
const webRoot = path.join(root, 'web');
const consoleOutDir = path.join(root, 'dist', 'console');

async function buildConsole(): Promise<void> {
  rmSync(consoleOutDir, { recursive: true, force: true });
  mkdirSync(consoleOutDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(webRoot, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'edge110', 'firefox110', 'safari16'],
    outdir: consoleOutDir,
    entryNames: 'console-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const script = outputs.find(([, output]) => output.entryPoint !== undefined);
  if (script === undefined) throw new Error('esbuild produced no script for web/main.ts');
  const stylesheet = script[1].cssBundle;
  if (stylesheet === undefined) throw new Error('esbuild produced no stylesheet: web/main.ts must import web/console.css');

  const template = readFileSync(path.join(webRoot, 'index.html'), 'utf8');
  const page = template
    .replace('%CONSOLE_SCRIPT%', path.basename(script[0]))
    .replace('%CONSOLE_STYLESHEET%', path.basename(stylesheet));
  if (page.includes('%CONSOLE_')) throw new Error('web/index.html has a placeholder the build does not know');
  writeFileSync(path.join(consoleOutDir, 'index.html'), page);
}

buildConsole().catch((error: unknown) => {
  console.error('build: the console bundle failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
