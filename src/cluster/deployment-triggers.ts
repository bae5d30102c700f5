/**
 * Everything that can start a deployer run, switched off (and back on) as one: the EventBridge
 * rules that invoke `eks-discover` (the schedule) and `eks-event` (CreateCluster and
 * CreateFargateProfile from the central bus), and the SQS event source of `eks-discover`'s work
 * queue. Rules are found by their target (the function), so the names CloudFormation gave them do
 * not matter. Only what was enabled is disabled, and only that is enabled again.
 */
import {
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  ListRuleNamesByTargetCommand,
  type EventBridgeClient,
} from '@aws-sdk/client-eventbridge';
import {
  GetFunctionConfigurationCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

/** A rule on a bus (undefined: the default bus). */
export interface TriggerRule {
  readonly name: string;
  readonly eventBus?: string;
}

/** What `stop` switched off, for `restore`. */
export interface StoppedTriggers {
  readonly rules: readonly TriggerRule[];
  /** Event source mapping UUIDs. */
  readonly eventSources: readonly string[];
}

/** The port destroy uses; `AwsDeploymentTriggers` is the adapter. */
export interface DeploymentTriggers {
  stop(): Promise<StoppedTriggers>;
  restore(stopped: StoppedTriggers): Promise<void>;
}

export interface TriggerNames {
  readonly discoverFunction: string;
  readonly eventFunction: string;
  /** The central bus the cluster-event rule lives on. */
  readonly eventBus: string;
}

export class AwsDeploymentTriggers implements DeploymentTriggers {
  constructor(
    private readonly events: Pick<EventBridgeClient, 'send'>,
    private readonly lambda: Pick<LambdaClient, 'send'>,
    private readonly names: TriggerNames,
  ) {}

  /** Switches everything off; when that fails halfway, what it switched off is switched on again. */
  async stop(): Promise<StoppedTriggers> {
    const rules: TriggerRule[] = [];
    const eventSources: string[] = [];
    try {
      await this.stopInto(rules, eventSources);
    } catch (error) {
      await this.restore({ rules, eventSources }).catch(() => undefined);
      throw error;
    }
    return { rules, eventSources };
  }

  private async stopInto(rules: TriggerRule[], eventSources: string[]): Promise<void> {
    const targets: [string, string | undefined][] = [
      [this.names.discoverFunction, undefined],
      [this.names.eventFunction, this.names.eventBus],
    ];
    for (const [fn, bus] of targets) {
      const arn = await this.functionArn(fn);
      if (arn === undefined) continue;
      for (const name of await this.rulesTargeting(arn, bus)) {
        const rule = bus === undefined ? { name } : { name, eventBus: bus };
        const state = (await this.events.send(new DescribeRuleCommand({ Name: name, EventBusName: bus })))
          .State;
        if (state === 'DISABLED') continue;
        await this.events.send(new DisableRuleCommand({ Name: name, EventBusName: bus }));
        rules.push(rule);
      }
    }
    for (const mapping of await this.mappingsOf(this.names.discoverFunction)) {
      if (mapping.state !== 'Enabled' && mapping.state !== 'Enabling') continue;
      await this.lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.uuid, Enabled: false }));
      eventSources.push(mapping.uuid);
    }
  }

  async restore(stopped: StoppedTriggers): Promise<void> {
    for (const rule of stopped.rules) {
      await this.events.send(new EnableRuleCommand({ Name: rule.name, EventBusName: rule.eventBus }));
    }
    for (const uuid of stopped.eventSources) {
      await this.lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));
    }
  }

  private async functionArn(name: string): Promise<string | undefined> {
    try {
      return (await this.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name })))
        .FunctionArn;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  private async rulesTargeting(targetArn: string, eventBus: string | undefined): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.events.send(
        new ListRuleNamesByTargetCommand({
          TargetArn: targetArn,
          EventBusName: eventBus,
          NextToken: nextToken,
        }),
      );
      names.push(...(page.RuleNames ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return names;
  }

  private async mappingsOf(functionName: string): Promise<{ uuid: string; state: string }[]> {
    const out: { uuid: string; state: string }[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.lambda.send(
          new ListEventSourceMappingsCommand({ FunctionName: functionName, Marker: marker }),
        );
        for (const m of page.EventSourceMappings ?? []) {
          if (m.UUID) out.push({ uuid: m.UUID, state: m.State ?? '' });
        }
        marker = page.NextMarker;
      } while (marker);
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return [];
      throw error;
    }
    return out;
  }
}

/** One line for people: what was switched off. */
export function describeStopped(stopped: StoppedTriggers): string {
  const parts = [
    ...stopped.rules.map((r) => `rule ${r.name}${r.eventBus ? ` (bus ${r.eventBus})` : ''}`),
    ...stopped.eventSources.map((u) => `queue event source ${u}`),
  ];
  return parts.length > 0 ? parts.join(', ') : 'nothing was enabled';
}
