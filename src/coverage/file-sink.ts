/**
 * A file written piece by piece with backpressure: the writer waits while the disk catches up, and an
 * error of the stream (disk full, no permission) fails the next write or the close instead of being
 * lost. `status --html` writes the heatmap through it, the function's publish the summary and heatmap
 * it then sends from the file.
 */
import { createWriteStream } from 'node:fs';

export interface FileSink {
  write(chunk: string): Promise<void>;
  close(): Promise<void>;
}

export function fileSink(path: string): FileSink {
  const stream = createWriteStream(path, 'utf8');
  let failure: Error | undefined;
  stream.on('error', (error: Error) => {
    failure ??= error;
  });
  const check = (): void => {
    if (failure !== undefined) throw failure;
  };
  return {
    write: async (chunk) => {
      check();
      if (!stream.write(chunk)) {
        // Whichever comes first; both listeners go (a listener left per write would pile up).
        await new Promise<void>((resolve) => {
          const done = (): void => {
            stream.off('drain', done);
            stream.off('close', done);
            resolve();
          };
          stream.on('drain', done);
          stream.on('close', done);
        });
        check();
      }
    },
    close: async () => {
      check();
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
      check();
    },
  };
}
