import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the managed identity endpoint Azure gives a function app
 * (App Service's protocol, api-version 2019-08-01: IDENTITY_ENDPOINT and
 * IDENTITY_HEADER in the environment, `GET ?resource=&client_id=` with an
 * `X-IDENTITY-HEADER`). For Azure Storage it answers with an unsigned JWT that
 * Azurite accepts in `--oauth basic` mode; for any other resource with a token
 * of its own per resource and identity (see `tokenFor`), so a test can tell
 * which token reached which service. It records the requests so a test can see
 * which identity was asked for, and can refuse every request as Azure does for
 * an identity that is not assigned to the app.
 */
export interface ManagedIdentityEndpoint {
  /** The environment a process needs to find this endpoint. */
  readonly env: Readonly<Record<'IDENTITY_ENDPOINT' | 'IDENTITY_HEADER', string>>;
  /** Query parameters of every token request so far, with whether it carried the right header. */
  readonly requests: readonly { readonly query: URLSearchParams; readonly headerMatched: boolean }[];
  /** The access token this endpoint hands out for `resource` to the identity `clientId` (the same one every time). */
  tokenFor(resource: string, clientId: string): string;
  /** From now on, answer every token request with this refusal (undefined: with tokens again). */
  refuseWith(refusal: Refusal | undefined): void;
  stop(): Promise<void>;
}

export interface Refusal {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface ManagedIdentityEndpointOptions {
  /** Answer every token request with this status and JSON body instead of a token. */
  readonly refuse?: Refusal;
}

/** What App Service answers when the client_id names no identity assigned to the app. */
export const identityNotAssigned = {
  status: 400,
  body: { statusCode: 400, message: 'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.', correlationId: '00000000-0000-4000-8000-000000000001' },
} as const;

const header = 'identity-header-of-this-test';
const storageResource = 'https://storage.azure.com';

function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [part({ alg: 'RS256', typ: 'JWT' }), part(claims), part({ signature: 'none' })].join('.');
}

/** An unsigned JWT for Azure Storage, valid for an hour from `now` (seconds): Azurite's `--oauth basic` checks issuer, audience and lifetime, not the signature. */
export function unsignedStorageToken(now = Math.floor(Date.now() / 1000)): string {
  return unsignedJwt({ aud: storageResource, iss: 'https://sts.windows.net/00000000-0000-0000-0000-0000000000aa/', nbf: now - 60, iat: now - 60, exp: now + 3600, oid: 'test-identity' });
}

export async function startManagedIdentityEndpoint(options: ManagedIdentityEndpointOptions = {}): Promise<ManagedIdentityEndpoint> {
  const requests: { query: URLSearchParams; headerMatched: boolean }[] = [];
  const startedAt = Math.floor(Date.now() / 1000);
  const minted = new Map<string, string>();
  let refusal = options.refuse;
  const tokenFor = (resource: string, clientId: string): string => {
    const key = `${resource} ${clientId}`;
    let token = minted.get(key);
    if (token === undefined) {
      token = unsignedJwt({ aud: resource, appid: clientId, iss: 'https://sts.windows.net/00000000-0000-0000-0000-0000000000aa/', nbf: startedAt - 60, iat: startedAt - 60, exp: startedAt + 3600, n: minted.size });
      minted.set(key, token);
    }
    return token;
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const headerMatched = request.headers['x-identity-header'] === header;
    requests.push({ query: url.searchParams, headerMatched });
    if (!headerMatched) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"missing X-IDENTITY-HEADER"}');
      return;
    }
    if (refusal !== undefined) {
      response.writeHead(refusal.status, { 'content-type': 'application/json' }).end(JSON.stringify(refusal.body));
      return;
    }
    const resource = url.searchParams.get('resource') ?? '';
    const now = Math.floor(Date.now() / 1000);
    const token = resource === storageResource ? unsignedStorageToken(now) : tokenFor(resource, url.searchParams.get('client_id') ?? '');
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ access_token: token, expires_on: String(startedAt + 3600), resource, token_type: 'Bearer', client_id: url.searchParams.get('client_id') ?? '' }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the identity endpoint has no port');
  return {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${address.port}/msi/token`, IDENTITY_HEADER: header },
    requests,
    tokenFor,
    refuseWith: (next) => {
      refusal = next;
    },
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
