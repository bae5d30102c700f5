import { BatchGetProjectsCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { PROJECT_ENV } from '../eks/run-contract.js';

/**
 * The runs table a deployment uses, found through its deployer project in the home region (the
 * project names it in its environment); undefined when the project does not exist. Destroy and the
 * CLI find the table this way, so neither needs its name.
 */
export async function runsTableOfProject(
  codeBuild: Pick<CodeBuildClient, 'send'>,
  projectName: string,
): Promise<string | undefined> {
  const project = (await codeBuild.send(new BatchGetProjectsCommand({ names: [projectName] }))).projects?.[0];
  return project?.environment?.environmentVariables?.find((v) => v.name === PROJECT_ENV.runsTable)?.value;
}
