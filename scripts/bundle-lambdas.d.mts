export declare const HANDLERS_DIR: string;
export declare function handlerNames(handlersDir?: string): string[];
export declare function bundleHandler(
  name: string,
  outRoot: string,
  handlersDir?: string,
): Promise<{ file: string; bytes: number }>;
export declare const DEPLOYER_ENTRY: string;
export declare function bundleDeployer(outDir?: string): Promise<{ file: string; bytes: number }>;
