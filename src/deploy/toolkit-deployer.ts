import {
  AbortError,
  StackParameters,
  StackSelectionStrategy,
  Toolkit,
  type ICloudAssemblySource,
} from '@aws-cdk/toolkit-lib';
import { CfnParameter, Stack, Token } from 'aws-cdk-lib';
import { UserInputError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type {
  AppFactory,
  Deployer,
  DeployOutcome,
  DeployRequest,
  DeployTimeAppOptions,
  DestroyOutcome,
  DestroyRequest,
  RootStackInfo,
} from './deployer.js';
import { NotConfirmedError, ToolkitFailedError } from './errors.js';

export interface ToolkitDeployerOptions {
  /** Where the Lambda bundles are. @default buildApp's default (dist/lambda) */
  readonly lambdaDir?: string;
}

/**
 * Deploys the root stack with @aws-cdk/toolkit-lib, in-process: the app is synthesized by a
 * builder function, parameters go to CloudFormation through the SDK, no `cdk` CLI is spawned and
 * nothing secret reaches a command line.
 */
export class ToolkitDeployer implements Deployer {
  constructor(
    private readonly buildApp: AppFactory,
    private readonly options: ToolkitDeployerOptions = {},
  ) {}

  describeRoot(config: ResolvedConfig): RootStackInfo {
    const { rootStack } = this.buildApp(config, this.appOptions());
    const concrete = (value: string) => (Token.isUnresolved(value) ? undefined : value);
    const region = concrete(rootStack.region);
    const account = concrete(rootStack.account);
    const parameterNames = rootStack.node
      .findAll()
      .filter((c): c is CfnParameter => c instanceof CfnParameter && Stack.of(c) === rootStack)
      .map((p) => rootStack.resolve(p.logicalId) as string);
    return {
      stackName: rootStack.stackName,
      hierarchicalId: rootStack.node.path,
      ...(region ? { region } : {}),
      ...(account ? { account } : {}),
      parameterNames,
    };
  }

  async deploy(request: DeployRequest): Promise<DeployOutcome> {
    return this.inHomeRegion(request.config, async () => {
      const toolkit = new Toolkit({ ioHost: request.ioHost, color: false, emojis: false });
      const cx = await this.assembly(toolkit, request.config, request.appOptions);
      try {
        const result = await toolkit.deploy(cx, {
          stacks: selectRoot(request.root),
          parameters: request.keepExistingParameters
            ? StackParameters.onlyExisting()
            : StackParameters.exactly({ ...request.parameters }),
        });
        const stack = result.stacks.find((s) => s.stackName === request.root.stackName) ?? result.stacks[0];
        if (!stack) throw new ToolkitFailedError('deploy', 'the toolkit deployed no stack');
        return {
          stackName: stack.stackName,
          stackArn: stack.stackArn,
          account: stack.environment.account,
          region: stack.environment.region,
          outputs: stack.outputs,
        };
      } catch (error) {
        throw toolkitFailure('deploy', error, request.scrub);
      }
    });
  }

  async destroy(request: DestroyRequest): Promise<DestroyOutcome> {
    return this.inHomeRegion(request.config, async () => {
      const toolkit = new Toolkit({ ioHost: request.ioHost, color: false, emojis: false });
      const cx = await this.assembly(toolkit, request.config);
      try {
        const result = await toolkit.destroy(cx, { stacks: selectRoot(request.root) });
        const stack = result.stacks[0];
        return {
          stackName: stack?.stackName ?? request.root.stackName,
          existed: stack?.stackExisted ?? false,
        };
      } catch (error) {
        throw toolkitFailure('destroy', error, request.scrub);
      }
    });
  }

  private appOptions(
    outdir?: string,
    deployTime: DeployTimeAppOptions = {},
  ): { outdir?: string; lambdaDir?: string } & DeployTimeAppOptions {
    return {
      ...(outdir ? { outdir } : {}),
      ...(this.options.lambdaDir ? { lambdaDir: this.options.lambdaDir } : {}),
      ...deployTime,
    };
  }

  private assembly(
    toolkit: Toolkit,
    config: ResolvedConfig,
    deployTime: DeployTimeAppOptions = {},
  ): Promise<ICloudAssemblySource> {
    return toolkit.fromAssemblyBuilder(async (props) => {
      const { app } = this.buildApp(config, this.appOptions(props.outdir, deployTime));
      return Promise.resolve(app.synth());
    });
  }

  /**
   * An environment-agnostic root stack deploys to the SDK's default region; pin it to the home
   * region for the duration of the toolkit call, and put the user's setting back afterwards.
   */
  private async inHomeRegion<T>(config: ResolvedConfig, work: () => Promise<T>): Promise<T> {
    const previous = process.env.AWS_REGION;
    process.env.AWS_REGION = config.aws.homeRegion;
    try {
      return await work();
    } finally {
      if (previous === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = previous;
    }
  }
}

function selectRoot(root: RootStackInfo) {
  return { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [root.hierarchicalId] };
}

/** Maps a toolkit failure to our errors: scrubbed message, no raw cause; exported for tests. */
export function toolkitFailure(
  action: 'deploy' | 'destroy',
  error: unknown,
  scrub: (text: string) => string,
): Error {
  // Our own errors (a declined confirmation thrown from the IoHost) pass through unchanged.
  if (error instanceof ToolkitFailedError || error instanceof UserInputError) return error;
  const message = scrub(error instanceof Error ? error.message : String(error));
  if (AbortError.isAbortError(error)) return new NotConfirmedError(`${action} cancelled: ${message}`);
  // The original error is not attached as `cause`: its text could hold parameter values.
  return new ToolkitFailedError(action, message);
}
