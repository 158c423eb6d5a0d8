import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the managed identity endpoint Azure gives a function app
 * (App Service's protocol: IDENTITY_ENDPOINT and IDENTITY_HEADER in the
 * environment). It answers every token request with an unsigned JWT for Azure
 * Storage that Azurite accepts in `--oauth basic` mode, and records the
 * requests so a test can see which identity was asked for.
 */
export interface ManagedIdentityEndpoint {
  /** The environment a process needs to find this endpoint. */
  readonly env: Readonly<Record<'IDENTITY_ENDPOINT' | 'IDENTITY_HEADER', string>>;
  /** Query parameters of every token request so far, with whether it carried the right header. */
  readonly requests: readonly { readonly query: URLSearchParams; readonly headerMatched: boolean }[];
  stop(): Promise<void>;
}

const header = 'identity-header-of-this-test';

/** An unsigned JWT for Azure Storage, valid for an hour from `now` (seconds): Azurite's `--oauth basic` checks issuer, audience and lifetime, not the signature. */
export function unsignedStorageToken(now = Math.floor(Date.now() / 1000)): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    part({ alg: 'RS256', typ: 'JWT' }),
    part({ aud: 'https://storage.azure.com', iss: 'https://sts.windows.net/00000000-0000-0000-0000-0000000000aa/', nbf: now - 60, iat: now - 60, exp: now + 3600, oid: 'test-identity' }),
    part({ signature: 'none' }),
  ].join('.');
}

export async function startManagedIdentityEndpoint(): Promise<ManagedIdentityEndpoint> {
  const requests: { query: URLSearchParams; headerMatched: boolean }[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const headerMatched = request.headers['x-identity-header'] === header;
    requests.push({ query: url.searchParams, headerMatched });
    if (!headerMatched) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"missing X-IDENTITY-HEADER"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const token = unsignedStorageToken(now);
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ access_token: token, expires_on: String(now + 3600), resource: url.searchParams.get('resource'), token_type: 'Bearer' }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the identity endpoint has no port');
  return {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${address.port}/msi/token`, IDENTITY_HEADER: header },
    requests,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
