import * as cdk from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { PLAN_NOTES_METADATA_KEY, ROOT_METADATA_KEY } from '../../src/infra/metadata.js';
import { addPlanNote } from '../../src/infra/plan-notes.js';
import { buildPlan, type TemplateJson } from '../../src/plan/plan.js';
import { renderPlan } from '../../src/plan/render.js';

describe('plan notes', () => {
  it('are kept per feature in the root template and keep the metadata written before and after them', () => {
    // Prepare
    const stack = new cdk.Stack(new cdk.App(), 'Root');
    stack.templateOptions.metadata = { Earlier: 1 };
    // Act
    addPlanNote(stack, 'eksProtection', 'first');
    addPlanNote(stack, 'eksProtection', 'second');
    addPlanNote(stack, 'ecrConnections', 'other');
    stack.templateOptions.metadata = { ...stack.templateOptions.metadata, Later: 2 };
    // Assess
    expect(stack.templateOptions.metadata).toEqual({
      Earlier: 1,
      Later: 2,
      [PLAN_NOTES_METADATA_KEY]: { eksProtection: ['first', 'second'], ecrConnections: ['other'] },
    });
  });

  it('are read back by plan and printed under their feature only', () => {
    const root: TemplateJson = {
      Metadata: {
        [ROOT_METADATA_KEY]: {
          features: { ssmDistributor: 'disabled', eksProtection: 'deployed', ecrConnections: 'disabled' },
        },
        [PLAN_NOTES_METADATA_KEY]: { eksProtection: ['deployer: runs node index.mjs'] },
      },
      Resources: {},
    };
    const plan = buildPlan({
      rootStackName: 'r',
      homeRegion: 'eu-central-1',
      rootTemplate: root,
      readMemberTemplate: () => ({}),
    });
    expect(plan.features.map((f) => [f.name, f.notes])).toEqual([
      ['ssmDistributor', []],
      ['eksProtection', ['deployer: runs node index.mjs']],
      ['ecrConnections', []],
    ]);
    const text = renderPlan(plan);
    expect(text).toContain('Feature eksProtection: deployed\n  note: deployer: runs node index.mjs');
    expect(text.match(/note:/g)).toHaveLength(1);
  });
});
