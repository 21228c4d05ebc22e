import { fileContentBytes, type StepSpec } from '@sandfleet/contracts';

/** A spec file as stored: where it goes and how big it is, never its content. */
export interface StoredStepFile {
  path: string;
  mode?: number;
  /** Size in bytes of the decoded content. */
  size: number;
}

/**
 * The StepSpec as kept in `steps.spec`: file contents removed (persona files and memories can
 * be large and private). Secrets appear by name only, as in every spec.
 */
export type StoredStepSpec = Omit<StepSpec, 'files'> & { files: StoredStepFile[] };

/** Strips file contents from a validated spec, keeping each file's path, mode and size. */
export function toStoredStepSpec(spec: StepSpec): StoredStepSpec {
  const { files, ...rest } = spec;
  return {
    ...rest,
    files: files.map((file) => ({
      path: file.path,
      ...(file.mode === undefined ? {} : { mode: file.mode }),
      size: fileContentBytes(file),
    })),
  };
}
