import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';

/** The repository's image build script, relative to this file in `apps/cli/dist/commands/`. */
const BUILD_SCRIPT = fileURLToPath(
  new URL('../../../../infra/images/build-agent-runtime.sh', import.meta.url),
);

/**
 * `sandfleet image build [--toolbox full|minimal] [--base bookworm|trixie]`: builds the
 * agent-runtime toolbox image from docker/Dockerfile.agent-runtime, independently of the engine,
 * showing Docker's progress. Workers pick the new image up by tag; each step records the image id
 * it ran. The trixie base carries delta and eza, which bookworm's glibc cannot run (docker/README.md).
 */
export function imageCommand(): Command {
  const image = new Command('image').description('manage the agent-runtime image');
  image
    .command('build')
    .description(
      'build sandfleet/agent-runtime with progress (full: :latest, minimal: :minimal; on trixie: :trixie, :minimal-trixie)',
    )
    .addOption(new Option('--toolbox <kind>', 'which toolbox').choices(['full', 'minimal']).default('full'))
    .addOption(
      new Option('--base <release>', 'Debian release of the base image')
        .choices(['bookworm', 'trixie'])
        .default('bookworm'),
    )
    .option('--rebuild', 'build even when an image of this runtime version exists')
    .action(
      (options: { toolbox: string; base: string; rebuild?: boolean }) =>
        new Promise<void>((resolve) => {
          if (!existsSync(BUILD_SCRIPT)) {
            process.stderr.write(
              `sandfleet: ${BUILD_SCRIPT} not found: run this from a checkout of the Sandfleet repository\n`,
            );
            process.exitCode = 1;
            resolve();
            return;
          }
          const child = spawn('bash', [BUILD_SCRIPT, options.toolbox, options.base], {
            stdio: 'inherit',
            env: { ...process.env, ...(options.rebuild ? { SANDFLEET_REBUILD_IMAGES: '1' } : {}) },
          });
          child.once('exit', (code) => {
            process.exitCode = code ?? 1;
            resolve();
          });
        }),
    );
  return image;
}
