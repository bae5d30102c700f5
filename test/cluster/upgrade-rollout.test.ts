import { afterEach, describe, expect, it } from 'vitest';
import { DeployerHarness, settingsFor } from './harness.js';

const OPERATOR = '/apis/apps/v1/namespaces/falcon-operator/deployments/falcon-operator-controller-manager';

describe('operator upgrade waits for the new revision, not the old pods', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('waits until the upgraded operator Deployment has rolled out although the old pods keep it Available', async () => {
    h = await DeployerHarness.start({ deploymentAvailableAfterMs: 5000 });
    expect((await h.run('nodes')).outcome).toBe('protected');
    const before = h.standIn.requests.length;

    const upgrade = await h.run('nodes', settingsFor('v1.1.0'));

    expect(upgrade.outcome, upgrade.reason).toBe('upgraded');
    const requests = h.standIn.requests.slice(before).filter((r) => r.path === OPERATOR);
    const patch = requests.find((r) => r.method === 'PATCH');
    expect(patch).toBeDefined();
    const readsAfter = requests.filter((r) => r.method === 'GET' && r.at >= patch!.at);
    // Available=True from the first read (the old pod serves); done only once the rollout ended.
    expect(readsAfter.length).toBeGreaterThan(1);
    expect(Math.max(...readsAfter.map((r) => r.at)) - patch!.at).toBeGreaterThanOrEqual(5000);
  });
});

describe('a broken operator upgrade is not reported protected', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('fails at the operator deadline when the new operator pods never get ready while the old ones serve', async () => {
    h = await DeployerHarness.start({ deploymentAvailableAfterMs: 5000 });
    expect((await h.run('nodes')).outcome).toBe('protected');
    h.standIn.options.brokenRollouts = true;

    const upgrade = await h.run('nodes', settingsFor('v1.1.0'));

    expect(upgrade.outcome).toBe('failed');
    expect(upgrade.reason).toBe(
      'Deployment falcon-operator/falcon-operator-controller-manager to be Available: not done after 300 s ' +
        '(last seen: Available=True (MinimumReplicasAvailable); 1 old replicas pending termination)',
    );
    // The old pod kept the Deployment Available the whole time.
    const operator = h.standIn.object(OPERATOR)!;
    expect(JSON.stringify(operator['status'])).toContain('"type":"Available","status":"True"');
  });
});
