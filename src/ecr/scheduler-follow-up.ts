import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { FollowUpEvent, FollowUpScheduler } from './follow-up.js';

/** Where the follow-up goes: the schedule's name, the function it invokes and the role Scheduler uses. */
export interface FollowUpTarget {
  readonly scheduleName: string;
  readonly functionArn: string;
  readonly roleArn: string;
}

// Loaded on first use: most runs defer nothing, and the SDK client would add to every cold start.
const loadSdk = () => import('@aws-sdk/client-scheduler');
let sharedClient: Promise<SchedulerClient> | undefined;

/**
 * The follow-up as an EventBridge Scheduler one-time schedule (`at(...)`, UTC) in the default group,
 * deleted by Scheduler once it has run (ActionAfterCompletion DELETE). One name per account: a second
 * deferral moves the pending follow-up instead of adding another. The client honours the SDK's endpoint
 * settings (AWS_ENDPOINT_URL_SCHEDULER).
 */
export class SchedulerFollowUp implements FollowUpScheduler {
  constructor(
    private readonly target: FollowUpTarget,
    private readonly region: string,
  ) {}

  private client(): Promise<SchedulerClient> {
    sharedClient ??= loadSdk().then((sdk) => new sdk.SchedulerClient({ region: this.region }));
    return sharedClient;
  }

  async schedule(at: Date, event: FollowUpEvent): Promise<void> {
    const sdk = await loadSdk();
    const client = await this.client();
    const input = {
      Name: this.target.scheduleName,
      Description: 'falcon-org: one follow-up run of ecr-connect for regions Falcon deferred',
      ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      ActionAfterCompletion: 'DELETE' as const,
      Target: {
        Arn: this.target.functionArn,
        RoleArn: this.target.roleArn,
        Input: JSON.stringify(event),
        RetryPolicy: { MaximumRetryAttempts: 2 },
      },
    };
    try {
      await client.send(new sdk.CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof sdk.ConflictException)) throw error;
      await client.send(new sdk.UpdateScheduleCommand(input));
    }
  }

  async cancel(): Promise<void> {
    const sdk = await loadSdk();
    const client = await this.client();
    try {
      await client.send(new sdk.DeleteScheduleCommand({ Name: this.target.scheduleName }));
    } catch (error) {
      if (!(error instanceof sdk.ResourceNotFoundException)) throw error;
    }
  }
}
