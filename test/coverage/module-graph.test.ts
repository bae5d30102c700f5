/**
 * What `falcon-org status` and the scheduled coverage function load: never the CDK. The graph is
 * esbuild's own (every static import and every `import('…')` with a literal path is followed), so a
 * module that reaches aws-cdk-lib through any path, however deep, fails here. The CLI's entry
 * (`main.ts`) is followed through its static imports only: the other commands load the CDK lazily,
 * in their own actions.
 */
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const HEAVY = /^(aws-cdk-lib|constructs|cdk-nag|@aws-cdk\/)/;

/** Every bare package imported anywhere in the graph of `entry`, and the project files that import it. */
async function graphOf(
  entry: string,
  followDynamic: boolean,
): Promise<{ packages: Map<string, string[]>; files: string[] }> {
  const imported = new Map<string, string[]>();
  const plugin: Plugin = {
    name: 'record-packages',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!followDynamic && args.kind === 'dynamic-import') return { path: args.path, external: true };
        if (args.path.startsWith('.') || args.path.startsWith('/')) return undefined;
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        const list = imported.get(args.path) ?? [];
        list.push(args.importer.replace(`${process.cwd()}/`, ''));
        imported.set(args.path, list);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    entryPoints: [entry],
    metafile: true,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [plugin],
  });
  return { packages: imported, files: Object.keys(result.metafile.inputs) };
}

async function packagesOf(entry: string, followDynamic: boolean): Promise<Map<string, string[]>> {
  return (await graphOf(entry, followDynamic)).packages;
}

function heavy(imports: Map<string, string[]>): string[] {
  return [...imports.entries()].filter(([p]) => HEAVY.test(p)).map(([p, by]) => `${p} <- ${by.join(', ')}`);
}

describe('the status path and the coverage function never load the CDK', () => {
  it('status (every module it may load)', async () => {
    const imports = await packagesOf('src/cli/status.ts', true);
    expect(heavy(imports)).toEqual([]);
    // The check sees the AWS SDK, so it would see the CDK too.
    expect([...imports.keys()].some((p) => p.startsWith('@aws-sdk/'))).toBe(true);
  }, 60_000);

  it('nothing on the status path or in the coverage function reaches up into the infrastructure', async () => {
    for (const entry of ['src/cli/status.ts', 'src/handlers/coverage.ts']) {
      const { files } = await graphOf(entry, true);
      expect(files.filter((f) => f.startsWith('src/infra/'))).toEqual([]);
      expect(files).toContain('src/coverage/build.ts');
    }
  }, 60_000);

  it('the CLI entry point (static imports: what every command pays at start-up)', async () => {
    expect(heavy(await packagesOf('src/cli/main.ts', false))).toEqual([]);
  }, 60_000);

  it('the coverage Lambda handler', async () => {
    expect(heavy(await packagesOf('src/handlers/coverage.ts', true))).toEqual([]);
  }, 60_000);

  it('the check itself sees the CDK where it is', async () => {
    expect(heavy(await packagesOf('src/infra/features/coverage.ts', true)).length).toBeGreaterThan(0);
  }, 60_000);
});
