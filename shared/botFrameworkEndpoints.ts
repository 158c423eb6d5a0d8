import { AuthenticationConstants, GovernmentConstants } from 'botframework-connector';
import { CallerIdConstants } from 'botbuilder';
import { SettingsError } from './settingsError';

/**
 * botbuilder's own endpoint configuration (the keys ConfigurationBotFrameworkAuthentication
 * reads, under the same names), always complete.
 *
 * botbuilder takes any one of the endpoint keys as a full configuration and
 * leaves the others empty rather than default (an empty token issuer or login
 * URL then fails every request). So a partial set is completed here with the
 * values of the cloud `ChannelService` names: the public cloud when it is empty,
 * the US Government cloud for `https://botframework.azure.us`. Any other
 * `ChannelService` is a cloud botbuilder has no values for: then every endpoint
 * setting must be given, and a missing one is a SettingsError naming it.
 */
export interface BotFrameworkEndpoints {
  readonly ChannelService: string;
  readonly ValidateAuthority: boolean;
  readonly ToChannelFromBotLoginUrl: string;
  readonly ToChannelFromBotOAuthScope: string;
  readonly ToBotFromChannelTokenIssuer: string;
  readonly ToBotFromChannelOpenIdMetadataUrl: string;
  readonly ToBotFromEmulatorOpenIdMetadataUrl: string;
  readonly OAuthUrl: string;
  readonly CallerId: string;
}

type EndpointKey = Exclude<keyof BotFrameworkEndpoints, 'ChannelService' | 'ValidateAuthority'>;

const publicCloud: Readonly<Record<EndpointKey, string>> = {
  ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
  ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
  ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
  ToBotFromChannelOpenIdMetadataUrl: AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
  ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
  OAuthUrl: AuthenticationConstants.OAuthUrl,
  CallerId: CallerIdConstants.PublicAzureChannel,
};

const usGovernmentCloud: Readonly<Record<EndpointKey, string>> = {
  ToChannelFromBotLoginUrl: GovernmentConstants.ToChannelFromBotLoginUrl,
  ToChannelFromBotOAuthScope: GovernmentConstants.ToChannelFromBotOAuthScope,
  ToBotFromChannelTokenIssuer: GovernmentConstants.ToBotFromChannelTokenIssuer,
  ToBotFromChannelOpenIdMetadataUrl: GovernmentConstants.ToBotFromChannelOpenIdMetadataUrl,
  ToBotFromEmulatorOpenIdMetadataUrl: GovernmentConstants.ToBotFromEmulatorOpenIdMetadataUrl,
  OAuthUrl: GovernmentConstants.OAuthUrl,
  CallerId: CallerIdConstants.USGovChannel,
};

const endpointKeys = Object.keys(publicCloud) as EndpointKey[];

/** Fetched or used as OAuth authorities: must be URLs, https except on this machine (tests, local stand-ins). */
const urlKeys: ReadonlySet<EndpointKey> = new Set([
  'ToChannelFromBotLoginUrl',
  'ToBotFromChannelOpenIdMetadataUrl',
  'ToBotFromEmulatorOpenIdMetadataUrl',
  'OAuthUrl',
]);

type Env = Readonly<Record<string, string | undefined>>;

export function readBotFrameworkEndpoints(env: Env): BotFrameworkEndpoints {
  const text = (name: string): string => env[name]?.trim() ?? '';

  const ChannelService = text('ChannelService');
  const cloud =
    ChannelService === '' ? publicCloud : ChannelService === GovernmentConstants.ChannelService ? usGovernmentCloud : undefined;

  const given = Object.fromEntries(endpointKeys.map((key) => [key, text(key)])) as Record<EndpointKey, string>;
  if (cloud === undefined) {
    // CallerId may stay empty: it only labels incoming activities.
    const missing = endpointKeys.filter((key) => key !== 'CallerId' && given[key] === '');
    if (missing.length > 0) {
      throw new SettingsError(
        missing.join(', '),
        `${missing.length === 1 ? 'is' : 'are'} required when ChannelService is "${ChannelService}" ` +
          `(only empty, for the public cloud, or ${GovernmentConstants.ChannelService} come with built-in endpoints)`,
      );
    }
  }
  const endpoints = Object.fromEntries(endpointKeys.map((key) => [key, given[key] || (cloud?.[key] ?? '')])) as Record<EndpointKey, string>;
  for (const key of urlKeys) checkUrl(key, endpoints[key]);

  return Object.freeze({ ChannelService, ValidateAuthority: readValidateAuthority(text('ValidateAuthority')), ...endpoints });
}

function readValidateAuthority(raw: string): boolean {
  if (raw === '') return true;
  if (/^true$/i.test(raw)) return true;
  if (/^false$/i.test(raw)) return false;
  throw new SettingsError('ValidateAuthority', `must be true or false, got "${raw}"`);
}

function checkUrl(key: EndpointKey, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(key, `must be an absolute URL, got "${value}"`);
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw new SettingsError(key, `must be an https URL (http only for localhost), got "${value}"`);
  }
}
