/**
 * Delivery benchmark: `npm run bench [-- scenario... --flag=value...]`; `npm run bench -- --help` lists
 * the scenarios and their flags. Without names every scenario in scenarioList.ts runs, in order.
 * Prints figures and one summary table at the end; asserts nothing.
 *
 * The fake Bot Connector runs in a child process (remoteConnector.ts). Azurite is started once here;
 * each scenario seeds its own table.
 */
import { cpus, loadavg } from 'node:os';
import { startAzurite } from '../azurite';
import type { BenchContext, SummaryRow } from './scenario';
import { scenarios } from './scenarioList';
import { printSummary } from './summaryRows';

interface CommandLine {
  readonly names: readonly string[];
  readonly flags: ReadonlyMap<string, string>;
}

function parseCommandLine(argv: readonly string[]): CommandLine {
  const flags = new Map<string, string>();
  for (const arg of argv.filter((a) => a.startsWith('--'))) {
    const [name = '', value = 'true'] = arg.slice(2).split('=');
    flags.set(name, value);
  }
  return { names: argv.filter((arg) => !arg.startsWith('--')), flags };
}

function printHelp(): void {
  console.log('npm run bench [-- scenario... --flag=value...]\nScenarios (all of them, in this order, when none is named):');
  for (const scenario of scenarios) console.log(`  ${scenario.name.padEnd(12)} ${scenario.description}`);
}

async function main(): Promise<void> {
  const { names, flags } = parseCommandLine(process.argv.slice(2));
  if (flags.has('help')) return printHelp();
  const unknown = names.filter((name) => !scenarios.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    printHelp();
    throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
  }
  const chosen = names.length === 0 ? scenarios : scenarios.filter((scenario) => names.includes(scenario.name));
  console.log(`Scenarios: ${chosen.map((scenario) => scenario.name).join(', ')}`);
  console.log('Engine: default settings (50/s per tenant, 7/s per conversation, concurrency 128, 5 attempts) unless a scenario says otherwise.');
  console.log(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the start.`);
  const azurite = await startAzurite();
  const rows: SummaryRow[] = [];
  try {
    const context: BenchContext = {
      azurite,
      figures: new Map(),
      flag: (name, fallback) => {
        const raw = flags.get(name);
        const value = raw === undefined ? fallback : Number(raw);
        if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got "${raw}"`);
        return value;
      },
    };
    for (const scenario of chosen) rows.push(...(await scenario.run(context)));
  } finally {
    await azurite.stop();
  }
  printSummary(rows);
  console.log(`Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${cpus().length} cores).`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
