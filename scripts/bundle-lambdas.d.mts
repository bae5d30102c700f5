export declare const HANDLERS_DIR: string;
export declare function handlerNames(handlersDir?: string): string[];
export declare function bundleHandler(
  name: string,
  outRoot: string,
  handlersDir?: string,
): Promise<{ file: string; bytes: number }>;
