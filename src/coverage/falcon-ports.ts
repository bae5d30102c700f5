import type { FalconHosts } from '../falcon/hosts.js';
import type { FalconRegistryConnections } from '../falcon/registry-connections.js';
import type {
  FalconHost,
  FalconHostsPort,
  RegistryConnectionInfo,
  RegistryConnectionsPort,
} from './model.js';

/** Falcon's host inventory, per AWS account (scroll query + details). */
export class FalconHostsAdapter implements FalconHostsPort {
  constructor(private readonly hosts: FalconHosts) {}

  async hostsInAccount(accountId: string, signal?: AbortSignal): Promise<readonly FalconHost[]> {
    return this.hosts.inAwsAccount(accountId, signal);
  }
}

/** The tenant's registry connections, read once per report. */
export class RegistryConnectionsAdapter implements RegistryConnectionsPort {
  constructor(private readonly connections: FalconRegistryConnections) {}

  async listConnections(signal?: AbortSignal): Promise<readonly RegistryConnectionInfo[]> {
    return (await this.connections.listConnections(signal)).map((c) => ({
      id: c.id,
      url: c.url,
      ...(c.state !== undefined ? { state: c.state } : {}),
    }));
  }
}
