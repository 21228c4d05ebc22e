import { chmod, lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Largest result file read; a larger one is ignored with a warning. */
export const MAX_RESULT_BYTES = 256 * 1024;

export interface ResultRead {
  /** The file's JSON; undefined when the command wrote none (or an invalid one). */
  result?: unknown;
  /** Why a file that exists was not used. */
  warning?: string;
}

/**
 * `$SANDFLEET_RESULT_FILE`: a path in a directory of the runtime's own (mode 0711) where the
 * command may write its result as JSON.
 */
export class ResultFile {
  readonly path: string;
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.path = join(dir, 'result.json');
  }

  /** The result file at `path`, made by {@link ResultFile.create} (in another process). */
  static at(path: string): ResultFile {
    return new ResultFile(dirname(path));
  }

  /**
   * Creates a fresh directory `sandfleet-result-XXXXXX` under `tmpDir`, mode 0711: searchable by
   * the runtime (root without `DAC_*` capabilities), so it can tell the command wrote no result
   * without starting a helper as the agent; only the agent lists or writes it.
   */
  static async create(tmpDir: string): Promise<ResultFile> {
    const dir = await mkdtemp(join(tmpDir, 'sandfleet-result-'));
    await chmod(dir, 0o711);
    return new ResultFile(dir);
  }

  /**
   * Whether the command may have left a result: false only when nothing is at the path (a
   * link, a directory, anything there counts, and so does a path this process cannot look at).
   */
  static async mayExist(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  /**
   * Reads the result after the command exited. Only a regular file is read (not a link, and not
   * a FIFO, which would block the runtime).
   */
  async read(): Promise<ResultRead> {
    const info = await lstat(this.path).catch(() => undefined);
    if (info === undefined) return {};
    if (!info.isFile()) return { warning: `${this.path} is not a regular file: ignored` };
    if (info.size > MAX_RESULT_BYTES) {
      return { warning: `${this.path} has ${info.size} bytes, more than ${MAX_RESULT_BYTES}: ignored` };
    }
    const text = await readFile(this.path, 'utf8');
    if (text.trim() === '') return {};
    try {
      return { result: JSON.parse(text) as unknown };
    } catch {
      return { warning: `${this.path} is not JSON: ignored` };
    }
  }

  async remove(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}
