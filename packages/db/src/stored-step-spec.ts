import { fileContentBytes, type StepFile, StepSpec } from '@sandfleet/contracts';

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

/**
 * The accepted spec again, from the stored spec and the row's pending file contents: undefined
 * when the spec names files whose contents are gone, or when it no longer parses as StepSpec v1.
 */
export function restoreStepSpec(
  stored: StoredStepSpec,
  pendingFiles: StepFile[] | null,
): (StepSpec & { id: string }) | undefined {
  if (stored.files.length > 0 && (pendingFiles?.length ?? 0) !== stored.files.length) return undefined;
  const parsed = StepSpec.safeParse({ ...stored, files: pendingFiles ?? [] });
  if (!parsed.success || parsed.data.id === undefined) return undefined;
  return { ...parsed.data, id: parsed.data.id };
}
