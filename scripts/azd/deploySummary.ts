import path from 'node:path';

/**
 * azd's `postdeploy` hook: where the app answers and how to put the bot in Teams. It reads
 * the outputs of infra/main.bicep, which azd puts in the hook's environment. Nothing secret
 * is printed: the endpoints that need a function key say how to get one.
 */

type Env = Readonly<Record<string, string | undefined>>;

export class SummaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SummaryError';
  }
}

const appPackage = path.join('appPackage', 'build', 'app.zip');

export function deploymentSummary(env: Env): string[] {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new SummaryError(`${name} is not in the azd environment: run azd provision first`);
    return value;
  };
  const url = required('FUNCTION_APP_URL').replace(/\/+$/, '');
  const app = required('AZURE_FUNCTION_APP_NAME');
  const group = required('AZURE_RESOURCE_GROUP');
  const botId = required('MicrosoftAppId');
  const bot = env.BOT_RESOURCE_NAME?.trim();
  return [
    '',
    `The notifications app is running at ${url}`,
    bot
      ? `  Bot messaging endpoint (Azure Bot ${bot} calls it): ${url}/api/messages`
      : `  Bot messaging endpoint: ${url}/api/messages (no Azure Bot was created: set it as your existing bot's messaging endpoint)`,
    `  Send now:              POST ${url}/api/notify?code=<function key>`,
    `  Queued notifications:  POST ${url}/api/notifications?code=<function key>  (progress: GET ${url}/api/notifications/<id>?code=<function key>)`,
    `  Notification console:  ${url}/api/console?code=<function key>`,
    `  The function key:      az functionapp keys list --resource-group ${group} --name ${app} --query functionKeys.default --output tsv`,
    '',
    `Install the bot in Teams with the app package ${appPackage} (built for bot ${botId} after provisioning; npm run package rebuilds it):`,
    '  - for yourself: Teams > Apps > Manage your apps > Upload an app > Upload a custom app, then pick the file',
    '    (your tenant must allow custom apps: Teams admin center > Teams apps > Setup policies);',
    '  - for your organization: Teams admin center > Teams apps > Manage apps > Upload new app.',
    'Then add the app to a chat or a team: the bot remembers the conversation, and notifications reach it.',
    '',
  ];
}

if (require.main === module) {
  try {
    console.log(deploymentSummary(process.env).join('\n'));
  } catch (error) {
    if (!(error instanceof SummaryError)) throw error;
    console.error(`[azd] ${error.message}`);
    process.exitCode = 1;
  }
}
