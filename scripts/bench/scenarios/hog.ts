import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Scenario } from '../scenario';
import { teamsLike } from '../throughput';
import { oneTenant } from './oneTenant';

/** Starts a process that keeps one core busy; returns how to stop it. */
async function startCpuHog(): Promise<() => Promise<void>> {
  const hog = fork(join(__dirname, '..', 'cpuHog.js'), [], { stdio: 'ignore' });
  await once(hog, 'spawn');
  return async () => {
    const exited = once(hog, 'exit');
    hog.kill('SIGKILL');
    await exited;
  };
}

export const hog: Scenario = {
  name: 'hog',
  description: 'as single (one run), with a CPU-bound process spinning beside the app and the fake connector; compared with single\'s median',
  async run(context) {
    const single = context.figures.get('single.median');
    const { rows } = await oneTenant(context, {
      name: 'hog',
      title: 'one tenant, 100 ms, CPU hog beside',
      connector: teamsLike,
      repeats: context.flag('hog-repeats', 1),
      beside: startCpuHog,
      target: { minPerSecond: 45, maxOwnThrottled: 0.01 },
      ...(single !== undefined ? { compareWith: `no hog: median ${single.toFixed(1)}/s` } : {}),
    });
    return rows;
  },
};
