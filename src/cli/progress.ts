import type { ListrTask } from 'listr2';

/** What long work reports while it runs: the step it is on, and notes worth keeping. */
export interface Reporter {
  step(text: string): void;
  log(text: string): void;
}

/**
 * Run `work` under a listr2 task: a live spinner with the current step on a terminal, one line per step
 * otherwise, nothing at all when quiet. The only file that imports listr2, so its churn stays here.
 */
export async function withProgress<T>(title: string, quiet: boolean, work: (report: Reporter) => Promise<T>): Promise<T> {
  if (quiet) return work({ step() {}, log() {} });
  const { Listr, ListrLogger } = await import('listr2');
  let result: T | undefined;
  const task: ListrTask = {
    title,
    task: async (_ctx, t) => {
      result = await work({
        step: (text) => {
          t.output = text;
        },
        log: (text) => {
          t.output = text;
        },
      });
    },
    rendererOptions: { persistentOutput: false, outputBar: 1 },
  };
  const tty = Boolean(process.stderr.isTTY);
  // Off a terminal, progress lines (failure marks included) go to stdout, so stderr holds only the error.
  const plain = { logger: new ListrLogger({ useIcons: true, toStderr: [] }) };
  const list = new Listr([task], {
    renderer: tty ? 'default' : 'simple',
    fallbackRenderer: 'simple',
    rendererOptions: tty ? { collapseErrors: true, showErrorMessage: false } : plain,
    fallbackRendererOptions: plain,
    exitOnError: true,
    registerSignalListeners: false,
  } as never);
  await list.run();
  return result as T;
}

/** A progress step per tenth of each blob downloaded (not one per chunk). */
export function downloadSteps(report: Reporter): (digest: string, bytes: number, total?: number) => void {
  const shown = new Map<string, number>();
  return (digest, bytes, total) => {
    const tenth = total ? Math.floor((bytes / total) * 10) : Math.floor(bytes / 1e7);
    if (shown.get(digest) === tenth) return;
    shown.set(digest, tenth);
    report.step(`downloading ${digest.slice(7, 19)}: ${(bytes / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ''} MB`);
  };
}
