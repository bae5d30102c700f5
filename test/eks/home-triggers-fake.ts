import {
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListRuleNamesByTargetCommand,
  ResourceNotFoundException as RuleNotFound,
} from '@aws-sdk/client-eventbridge';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ResourceNotFoundException as FunctionNotFound,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';

const REGION = 'us-east-1';
const HOME = '999999999999';

export interface FakeRule {
  readonly name: string;
  readonly bus: string;
  readonly target: string;
  state: 'ENABLED' | 'DISABLED';
}

/**
 * What can start a deployer run in the home account, behind aws-sdk-client-mock: the EventBridge
 * rules (the schedule on the default bus targeting eks-discover, the cluster-event rule on the
 * central bus targeting eks-event) and the discover function's SQS event source mapping. State
 * changes are recorded in `log` in the order they happened.
 */
export class HomeTriggersFake {
  readonly events = mockClient(EventBridgeClient);
  readonly lambda = mockClient(LambdaClient);
  readonly rules: FakeRule[] = [];
  readonly mappings = new Map<string, { fn: string; state: string }>();
  readonly functions = new Set<string>();
  readonly log: string[] = [];
  /** Called after each state change (tests look at other state at that moment). */
  onChange: (entry: string) => void = () => undefined;

  constructor(prefix = 'falcon-org') {
    const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${HOME}:function:${name}`;
    this.functions.add(`${prefix}-eks-discover`).add(`${prefix}-eks-event`);
    this.rules.push(
      {
        name: 'FalconOrg-EksProtectionDiscoveryScheduleA1B2',
        bus: 'default',
        target: fnArn(`${prefix}-eks-discover`),
        state: 'ENABLED',
      },
      {
        name: 'FalconOrg-EksProtectionClusterEventsC3D4',
        bus: `${prefix}-eks-events`,
        target: fnArn(`${prefix}-eks-event`),
        state: 'ENABLED',
      },
    );
    this.mappings.set('mapping-1', { fn: `${prefix}-eks-discover`, state: 'Enabled' });

    this.lambda.on(GetFunctionConfigurationCommand).callsFake((input: { FunctionName: string }) => {
      if (!this.functions.has(input.FunctionName))
        throw new FunctionNotFound({ message: `Function not found: ${input.FunctionName}`, $metadata: {} });
      return { FunctionName: input.FunctionName, FunctionArn: fnArn(input.FunctionName) };
    });
    this.lambda.on(ListEventSourceMappingsCommand).callsFake((input: { FunctionName: string }) => ({
      EventSourceMappings: [...this.mappings]
        .filter(([, m]) => m.fn === input.FunctionName)
        .map(([UUID, m]) => ({ UUID, State: m.state })),
    }));
    this.lambda
      .on(UpdateEventSourceMappingCommand)
      .callsFake((input: { UUID: string; Enabled?: boolean }) => {
        const m = this.mappings.get(input.UUID);
        if (!m) throw new FunctionNotFound({ message: 'no such mapping', $metadata: {} });
        m.state = input.Enabled === false ? 'Disabled' : 'Enabled';
        this.note(`${input.Enabled === false ? 'disable' : 'enable'} ${input.UUID}`);
        return { UUID: input.UUID, State: m.state };
      });
    const rule = (name: string, bus: string | undefined) => {
      const found = this.rules.find((r) => r.name === name && r.bus === (bus ?? 'default'));
      if (!found) throw new RuleNotFound({ message: `Rule ${name} does not exist.`, $metadata: {} });
      return found;
    };
    this.events
      .on(ListRuleNamesByTargetCommand)
      .callsFake((input: { TargetArn: string; EventBusName?: string }) => ({
        RuleNames: this.rules
          .filter((r) => r.target === input.TargetArn && r.bus === (input.EventBusName ?? 'default'))
          .map((r) => r.name),
      }));
    this.events.on(DescribeRuleCommand).callsFake((input: { Name: string; EventBusName?: string }) => ({
      Name: input.Name,
      State: rule(input.Name, input.EventBusName).state,
    }));
    this.events.on(DisableRuleCommand).callsFake((input: { Name: string; EventBusName?: string }) => {
      rule(input.Name, input.EventBusName).state = 'DISABLED';
      this.note(`disable ${input.Name}`);
      return {};
    });
    this.events.on(EnableRuleCommand).callsFake((input: { Name: string; EventBusName?: string }) => {
      rule(input.Name, input.EventBusName).state = 'ENABLED';
      this.note(`enable ${input.Name}`);
      return {};
    });
  }

  private note(entry: string): void {
    this.log.push(entry);
    this.onChange(entry);
  }

  /** Whether anything could still start a run: an enabled rule or event source. */
  anythingEnabled(): boolean {
    return (
      this.rules.some((r) => r.state === 'ENABLED') ||
      [...this.mappings.values()].some((m) => m.state === 'Enabled')
    );
  }

  clients() {
    return {
      eventBridge: new EventBridgeClient({ region: REGION }),
      lambda: new LambdaClient({ region: REGION }),
    };
  }

  reset(): void {
    this.events.restore();
    this.lambda.restore();
  }
}
