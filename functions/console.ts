import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getServices } from '../shared/services';

/**
 * The notification console (web/, bundled by `npm run build` into
 * dist/console/): `GET /api/console` is the page, `GET /api/console/<file>`
 * its script and stylesheet.
 *
 * The page needs the function key in Azure (`?code=`); its assets are
 * anonymous, since a browser loads `<script src>` without the key's header
 * and the key must not go into another URL. They hold no secret: only the
 * page's code. Assets have content-hashed names and are cached for a year;
 * the page is revalidated every time, so a deployment shows at once.
 *
 * Only files the build wrote are served, looked up by name in a list made
 * once: a request names a file of that list or gets 404, so no path can
 * reach outside the folder.
 */

const bundleFolder = path.resolve(__dirname, '..', 'console');

const contentTypes: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const securityHeaders = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Card images may come from anywhere on https; everything else only from the app itself. */
const pagePolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "media-src 'self' https:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

interface Bundle {
  readonly page: string;
  readonly assets: ReadonlyMap<string, { readonly body: Buffer; readonly contentType: string }>;
}

let bundle: Bundle | undefined;

/** The built console, read once per process; undefined when `npm run build` did not build it. */
function loadBundle(): Bundle | undefined {
  if (bundle !== undefined) return bundle;
  let names: string[];
  try {
    names = readdirSync(bundleFolder);
  } catch {
    return undefined;
  }
  if (!names.includes('index.html')) return undefined;
  const assets = new Map<string, { body: Buffer; contentType: string }>();
  for (const name of names) {
    const contentType = contentTypes[path.extname(name)];
    if (contentType !== undefined) assets.set(name, { body: readFileSync(path.join(bundleFolder, name)), contentType });
  }
  bundle = { page: readFileSync(path.join(bundleFolder, 'index.html'), 'utf8'), assets };
  return bundle;
}

const notBuilt: HttpResponseInit = {
  status: 500,
  jsonBody: { error: 'ConsoleNotBuilt', message: 'The console was not built: run `npm run build` before starting or deploying the app.' },
};

export async function consolePage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const built = loadBundle();
  if (built === undefined) {
    context.error(`console: no bundle in ${bundleFolder}`);
    return notBuilt;
  }
  const page = built.page
    .replace('%BASE%', escapeAttribute(consoleFolderOf(new URL(request.url).pathname)))
    .replace('%MAX_MESSAGE_BYTES%', String(getServices().settings.maxMessageBytes));
  return {
    status: 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': pagePolicy,
      ...securityHeaders,
    },
    body: page,
  };
}

export async function consoleAsset(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const built = loadBundle();
  if (built === undefined) {
    context.error(`console: no bundle in ${bundleFolder}`);
    return notBuilt;
  }
  const name = request.params['asset'] ?? '';
  const asset = built.assets.get(name);
  if (asset === undefined) {
    return {
      status: 404,
      headers: { 'Cache-Control': 'no-store', ...securityHeaders },
      jsonBody: { error: 'NotFound', message: 'The console has no such file; reload the console page.' },
    };
  }
  return {
    status: 200,
    headers: { 'Content-Type': asset.contentType, 'Cache-Control': 'public, max-age=31536000, immutable', ...securityHeaders },
    body: asset.body,
  };
}

/**
 * The console's folder URL path for `<base href>`: the page's own path with
 * a trailing slash, so `/api/console` and `/api/console/` both find their
 * assets and the API one level up, whatever the host's route prefix.
 */
function consoleFolderOf(pathname: string): string {
  const folder = pathname.endsWith('/') ? pathname : `${pathname}/`;
  return /^[A-Za-z0-9/_.-]*$/.test(folder) ? folder : '/api/console/';
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

app.http('console', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'console',
  handler: consolePage,
});

app.http('consoleAssets', {
  methods: ['GET'],
  authLevel: 'anonymous',
  route: 'console/{*asset}',
  handler: consoleAsset,
});
