import * as cdk from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Raw resource types CDK's own providers create without tag support that still accept `Tags`. */
const TAGGABLE_RAW_TYPES = new Set(['AWS::IAM::Role', 'AWS::Lambda::Function']);

/**
 * `cdk.Tags` reaches every L1 construct but not the raw `CfnResource`s of CDK's custom resource
 * providers (for example the bucket auto-delete handler). This aspect tags those too, so every
 * resource carries the configured tags.
 */
export class TagRawResources implements cdk.IAspect {
  constructor(private readonly tags: Readonly<Record<string, string>>) {}

  visit(node: IConstruct): void {
    if (!(node instanceof cdk.CfnResource) || cdk.TagManager.isTaggable(node)) return;
    if (!TAGGABLE_RAW_TYPES.has(node.cfnResourceType)) return;
    const entries = Object.entries(this.tags).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length === 0) return;
    node.addPropertyOverride(
      'Tags',
      entries.map(([Key, Value]) => ({ Key, Value })),
    );
  }
}
