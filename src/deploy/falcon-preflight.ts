import type { PreflightFinding } from '../aws/preflight-finding.js';
import type { ResolvedConfig } from '../config/load.js';
import { createFalconClient } from '../falcon/client.js';
import { clientsInUse, readFalconClient, type SecretReader } from '../falcon/credentials.js';
import { probeClient, ScopeState } from '../falcon/probe.js';
import type { FalconScope } from '../config/falcon-scopes.js';

/** What the Falcon pre-flight needs besides the configuration. */
export interface FalconProbeWiring {
  /** Reads the clients kept in Secrets Manager (home account). */
  readonly secrets: SecretReader;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * Probes every Falcon API client the deployed features use, once per client with the scopes of every
 * feature that uses it: a rejected client or a missing read scope stops the deploy, naming the
 * setting, the features and the scope; what cannot be checked is a warning.
 */
export async function checkFalconClients(
  config: ResolvedConfig,
  env: NodeJS.ProcessEnv,
  wiring: FalconProbeWiring,
): Promise<PreflightFinding[]> {
  const byKey = new Map<
    string,
    {
      setting: string;
      features: string[];
      scopes: Set<FalconScope>;
      client: ReturnType<typeof clientsInUse>[number];
    }
  >();
  for (const client of clientsInUse(config)) {
    const entry = byKey.get(client.key) ?? {
      setting: client.setting,
      features: [],
      scopes: new Set(),
      client,
    };
    entry.features.push(client.feature);
    for (const s of client.scopes) entry.scopes.add(s);
    byKey.set(client.key, entry);
  }
  const findings: PreflightFinding[] = [];
  for (const { setting, features, scopes, client } of byKey.values()) {
    const who = `${setting} (used by ${features.join(', ')})`;
    let credentials;
    try {
      credentials = await readFalconClient(client, { env, secrets: () => wiring.secrets });
    } catch (error) {
      findings.push({
        check: 'falconClient',
        severity: 'warning',
        message: `${who}: could not read the client to probe it: ${error instanceof Error ? error.message : String(error)} (not verified)`,
      });
      continue;
    }
    const falcon = createFalconClient({
      cloud: config.falcon.cloud,
      baseUrl: config.derived.falconBaseUrl,
      credentials: { clientId: credentials.clientId, clientSecret: credentials.clientSecret },
      // A pre-flight asks once and moves on: no long backoff on a Falcon that does not answer.
      retry: { maxAttempts: 2 },
      timeoutMs: 15_000,
      ...(wiring.fetch !== undefined ? { fetch: wiring.fetch } : {}),
    });
    try {
      const probe = await probeClient(falcon.api, [...scopes]);
      if (probe.outcome === 'rejected') {
        findings.push({
          check: 'falconClient',
          severity: 'error',
          message: `${who}: Falcon rejected the API client itself (${probe.reason}); fix the client ID or secret, or the cloud (falcon.cloud)`,
        });
        continue;
      }
      const missing = probe.scopes.filter((s) => s.state === ScopeState.Missing).map((s) => s.scope);
      const unverified = probe.scopes.filter((s) => s.state === ScopeState.Unverified);
      const notProbed = probe.scopes.filter((s) => s.state === ScopeState.NotProbed).map((s) => s.scope);
      if (missing.length > 0) {
        findings.push({
          check: 'falconClient',
          severity: 'error',
          message: `${who}: the API client lacks ${missing.map((s) => `"${s}"`).join(', ')}; add ${missing.length === 1 ? 'this scope' : 'these scopes'} to the client in the Falcon console (Support and resources › API clients and keys)`,
        });
      }
      for (const u of unverified) {
        findings.push({
          check: 'falconClient',
          severity: 'warning',
          message: `${who}: could not verify "${u.scope}": ${u.detail ?? 'no answer'} (not verified)`,
        });
      }
      if (missing.length === 0 && unverified.length === 0) {
        findings.push({
          check: 'falconClient',
          severity: 'ok',
          message:
            `${who}: ${[...scopes].filter((s) => !notProbed.includes(s)).join(', ')} granted` +
            (notProbed.length > 0
              ? `; ${notProbed.join(', ')} not probed (no read proves a write scope)`
              : ''),
        });
      }
    } finally {
      await falcon.close();
    }
  }
  return findings;
}
