import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/**
 * Connections for proactive sends: `OriginAgents` holds one keep-alive agent
 * per serviceUrl origin, with a bound on its sockets; the proactive sender
 * sets it on each request (core-rest-pipeline honours `PipelineRequest.agent`).
 * Without it the pipeline's shared default agent keeps connections alive too,
 * but with no bound, one pool for every host. (The connector clients
 * themselves are reused by bot/connectorClientReuse.ts.)
 *
 * Relied on (@azure/core-rest-pipeline 1.24): its Node HTTP client uses
 * `request.agent` when set. If it stopped, requests would fall back to its
 * shared keep-alive agent: still reused, but without the bound (no error).
 */

/** One keep-alive agent per origin (scheme, host, port), each with at most `maxSockets` sockets. */
export class OriginAgents {
  private readonly agents = new Map<string, HttpAgent>();

  constructor(private readonly maxSockets: number) {}

  for(url: string): HttpAgent {
    const { origin, protocol } = new URL(url);
    let agent = this.agents.get(origin);
    if (agent === undefined) {
      const options = { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, scheduling: 'lifo' as const };
      agent = protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
      this.agents.set(origin, agent);
    }
    return agent;
  }

  /** Closes every connection (idle and in use). */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
