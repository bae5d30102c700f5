import * as cdk from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { PLAN_NOTES_METADATA_KEY, type PlanNotesMetadata, type StackSetOwner } from './metadata.js';

/**
 * Adds a sentence `plan` prints under a feature (for what a template alone does not say, such as
 * which program a CodeBuild project runs, or a prerequisite outside the stack). Kept in the root
 * template's Metadata so plan reads it from exactly what synth wrote.
 */
export function addPlanNote(scope: IConstruct, feature: StackSetOwner, note: string): void {
  const stack = cdk.Stack.of(scope);
  const metadata = stack.templateOptions.metadata ?? {};
  const notes = { ...((metadata[PLAN_NOTES_METADATA_KEY] as PlanNotesMetadata | undefined) ?? {}) };
  notes[feature] = [...(notes[feature] ?? []), note];
  stack.templateOptions.metadata = { ...metadata, [PLAN_NOTES_METADATA_KEY]: notes };
}
