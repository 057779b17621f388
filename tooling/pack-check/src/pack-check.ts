import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

/** Root of the monorepo (this file is tooling/pack-check/src/pack-check.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Longest a consumer command may run; a process that does not exit by itself (e.g. kept alive by a worker) fails. */
const commandTimeoutMs = 300_000;

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: commandTimeoutMs,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`,
    );
  }
}

/** A throwaway consumer project holding the packed packages, installed with npm. */
export interface ConsumerProject {
  dir: string;
  /** Writes a file into the project. */
  write(name: string, contents: string): void;
  /** Runs `node file` in the project and returns its standard output. */
  node(file: string): string;
  /** Runs a command in the project and returns its standard output. */
  run(cmd: string, args: string[]): string;
  /** Runs the workspace's TypeScript compiler with the given tsconfig in the project. */
  tsc(project?: string): { ok: boolean; output: string };
}

/**
 * Builds and packs each workspace package (`pnpm pack`) and installs the tarballs, with `dependencies`
 * from the registry, into an empty ESM project in a temporary directory using npm, as a user outside
 * this workspace would. No workspace links are involved.
 *
 * @param packageDirs - package folders relative to the repository root, e.g. `['packages/sde']`.
 * @param dependencies - other dependencies of the consumer, e.g. `{ '@tensorflow/tfjs': '4.22.0' }`.
 */
export function createConsumerProject(
  packageDirs: string[],
  dependencies: Record<string, string>,
): ConsumerProject {
  const dir = mkdtempSync(join(tmpdir(), 'sbm-consumer-'));
  const tarballs = join(dir, 'tarballs');
  mkdirSync(tarballs);
  for (const pkg of packageDirs) {
    const cwd = join(repoRoot, pkg);
    run('pnpm', ['exec', 'tsc', '-b'], cwd);
    run('pnpm', ['pack', '--pack-destination', tarballs], cwd);
  }
  const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'sbm-consumer', private: true, type: 'module' }, null, 2),
  );
  const specs = [
    ...files.map((f) => join(tarballs, f)),
    ...Object.entries(dependencies).map(([name, version]) => `${name}@${version}`),
  ];
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], dir);
  const tscBin = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  return {
    dir,
    write: (name, contents) => writeFileSync(join(dir, name), contents),
    node: (file) => run(process.execPath, [file], dir),
    run: (cmd, args) => run(cmd, args, dir),
    tsc: (project = 'tsconfig.json') => {
      try {
        const output = execFileSync(process.execPath, [tscBin, '-p', project], {
          cwd: dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        return { ok: true, output };
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      }
    },
  };
}

/** A strict NodeNext tsconfig for consumer projects. */
export function consumerTsconfig(files: string[]): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
        lib: ['ES2022', 'DOM'],
      },
      files,
    },
    null,
    2,
  );
}

/**
 * Registers vitest hooks that create the consumer project once before the suite's tests
 * ({@link createConsumerProject}) and delete it afterwards; returns a handle that forwards to it.
 */
export function useConsumerProject(
  packageDirs: string[],
  dependencies: Record<string, string>,
): ConsumerProject {
  let project: ConsumerProject | undefined;
  beforeAll(() => {
    project = createConsumerProject(packageDirs, dependencies);
  });
  afterAll(() => {
    if (project) rmSync(project.dir, { recursive: true, force: true });
  });
  const current = (): ConsumerProject => {
    if (!project)
      throw new Error('useConsumerProject: the project is created in beforeAll; use it inside tests');
    return project;
  };
  return {
    get dir() {
      return current().dir;
    },
    write: (name, contents) => current().write(name, contents),
    node: (file) => current().node(file),
    tsc: (tsconfig) => current().tsc(tsconfig),
    run: (cmd, args) => current().run(cmd, args),
  };
}
