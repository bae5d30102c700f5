/**
 * What was deployed, read back from the root stack's outputs (`DescribeStacks` on the stack named by
 * the resource prefix, home account and region): `status` finds the EKS runs table and the report
 * bucket there when they are not given.
 */
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { describeError } from '../shared/describe-error.js';

/** The root stack's outputs, or why they could not be read (no such stack, no permission, …). */
export async function rootStackOutputs(
  cfn: Pick<CloudFormationClient, 'send'>,
  stackName: string,
): Promise<{ outputs: Readonly<Record<string, string>> } | { unreadable: string }> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    if (stack === undefined) return { unreadable: `stack ${stackName} was not found` };
    const outputs: Record<string, string> = {};
    for (const o of stack.Outputs ?? []) {
      if (o.OutputKey !== undefined && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
    }
    return { outputs };
  } catch (error) {
    return { unreadable: `stack ${stackName} could not be read (${describeError(error)})` };
  }
}
