import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { FollowUpEvent, FollowUpScheduler } from './follow-up.js';

/** Where the follow-up goes: the schedule's name, the function it invokes and the role Scheduler uses. */
export interface FollowUpTarget {
  readonly scheduleName: string;
  readonly functionArn: string;
  readonly roleArn: string;
}

/**
 * The follow-up as an EventBridge Scheduler one-time schedule (`at(...)`, UTC) in the default group,
 * deleted by Scheduler once it has run (ActionAfterCompletion DELETE). One name per account: a second
 * deferral moves the pending follow-up instead of adding another.
 */
export class SchedulerFollowUp implements FollowUpScheduler {
  constructor(
    private readonly scheduler: Pick<SchedulerClient, 'send'>,
    private readonly target: FollowUpTarget,
  ) {}

  async schedule(at: Date, event: FollowUpEvent): Promise<void> {
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
      await this.scheduler.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      await this.scheduler.send(new UpdateScheduleCommand(input));
    }
  }

  async cancel(): Promise<void> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: this.target.scheduleName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
