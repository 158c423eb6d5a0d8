import { generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Bot Framework's OpenID configuration and key set
 * (login.botframework.com) and the Emulator's (Azure AD), on 127.0.0.1 and a
 * free port, so tests can sign channel tokens botbuilder accepts:
 *
 *   const channelKey = signingKey('channel-key', ['msteams', 'emulator']);
 *   const server = await startOpenIdServer({ channel: [channelKey], emulator: [] });
 *   settings.ToBotFromChannelOpenIdMetadataUrl = server.channelMetadataUrl;
 *   const token = signToken(channelKey, { iss: 'https://api.botframework.com', aud: appId, ... });
 */

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Channels the key may sign for, as the real key set lists them; undefined for none (like Azure AD's keys). */
  readonly endorsements?: readonly string[];
}

export function signingKey(kid: string, endorsements?: readonly string[]): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return endorsements === undefined ? { kid, privateKey, publicKey } : { kid, privateKey, publicKey, endorsements };
}

export interface OpenIdServer {
  /** What `ToBotFromChannelOpenIdMetadataUrl` points at. */
  readonly channelMetadataUrl: string;
  /** What `ToBotFromEmulatorOpenIdMetadataUrl` points at. */
  readonly emulatorMetadataUrl: string;
  /** How many times each path was fetched. */
  readonly fetches: ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

export interface PublishedKeys {
  readonly channel: readonly SigningKey[];
  readonly emulator: readonly SigningKey[];
}

export async function startOpenIdServer(keys: PublishedKeys): Promise<OpenIdServer> {
  const fetches = new Map<string, number>();
  let base = '';
  const documents = (): Record<string, unknown> => ({
    '/channel/.well-known/openidconfiguration': openIdConfiguration(`${base}/channel`, 'https://api.botframework.com'),
    '/channel/keys': { keys: keys.channel.map(publishedKey) },
    '/emulator/.well-known/openid-configuration': openIdConfiguration(`${base}/emulator`, 'https://login.microsoftonline.com/{tenantid}/v2.0'),
    '/emulator/keys': { keys: keys.emulator.map(publishedKey) },
  });
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    fetches.set(path, (fetches.get(path) ?? 0) + 1);
    const document = documents()[path];
    if (request.method !== 'GET' || document === undefined) {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.stringify(document);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    channelMetadataUrl: `${base}/channel/.well-known/openidconfiguration`,
    emulatorMetadataUrl: `${base}/emulator/.well-known/openid-configuration`,
    fetches,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function openIdConfiguration(base: string, issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${base}/authorize`,
    jwks_uri: `${base}/keys`,
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
  };
}

function publishedKey(key: SigningKey): JsonWebKey {
  const { n, e } = key.publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', use: 'sig', kid: key.kid, n, e, ...(key.endorsements === undefined ? {} : { endorsements: [...key.endorsements] }) };
}

/** An RS256 JWT with `kid` in its header, signed with `key` (or another private key, to forge a signature). */
export function signToken(key: Pick<SigningKey, 'kid' | 'privateKey'>, claims: Record<string, unknown>): string {
  const header = { alg: 'RS256', typ: 'JWT', kid: key.kid };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), key.privateKey).toString('base64url')}`;
}

/** A JWT with `alg: none` and no signature, which no verifier may accept. */
export function unsignedToken(kid: string, claims: Record<string, unknown>): string {
  return `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid }))}.${base64url(JSON.stringify(claims))}.`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** Seconds since the epoch, as JWT times are written. */
export function epochSeconds(offsetSeconds = 0): number {
  return Math.floor(Date.now() / 1000) + offsetSeconds;
}
