import * as cdk from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Construct IDs of dead-letter queues end with this; each gets an alarm. */
export const DEAD_LETTER_SUFFIX = 'DeadLetters';

/**
 * One CloudWatch alarm per dead-letter queue under `scope` (queues whose construct ID ends with
 * {@link DEAD_LETTER_SUFFIX}: the EKS event and discovery DLQs, the coverage function's): in alarm as
 * soon as one message is waiting, so a lost cluster event or a failed scheduled report is seen, not
 * kept silently for 14 days. With `topicArn` the alarm (and its recovery) notifies that SNS topic.
 */
export function addDeadLetterAlarms(scope: Construct, topicArn?: string): cloudwatch.Alarm[] {
  const queues = scope.node
    .findAll()
    .filter((c): c is sqs.Queue => c instanceof sqs.Queue && c.node.id.endsWith(DEAD_LETTER_SUFFIX));
  const topic = topicArn === undefined ? undefined : sns.Topic.fromTopicArn(scope, 'AlarmTopic', topicArn);
  return queues.map((queue) => {
    const alarm = new cloudwatch.Alarm(queue, 'Alarm', {
      alarmDescription: `falcon-org: messages in the dead-letter queue ${queue.node.path}; read them, fix the cause, then redrive or delete them`,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: cdk.Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (topic !== undefined) {
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
    }
    return alarm;
  });
}
