import { describe, expect, test } from 'vitest';
import { parseGpuSetupArgs, planGpuSetup } from './gpu-setup-plan.js';

const linux20 = { platform: 'linux', arch: 'x64', nodeVersion: 'v20.20.2', repoRoot: '/repo' };

describe('planGpuSetup', () => {
  test('Linux x64 + Node 20: one filtered pnpm rebuild allowed to build', () => {
    const plan = planGpuSetup(linux20);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.steps).toEqual([
      expect.objectContaining({
        command: 'pnpm',
        args: [
          '--filter',
          '@sbm/trainer',
          '--config.dangerouslyAllowAllBuilds=true',
          'rebuild',
          '@tensorflow/tfjs-node-gpu',
        ],
        cwd: '/repo',
      }),
    ]);
  });

  test("through `pnpm gpu:setup`, pnpm's own script is run with this Node", () => {
    const plan = planGpuSetup({
      ...linux20,
      nodePath: '/usr/bin/node',
      npmExecPath: '/usr/lib/node_modules/pnpm/bin/pnpm.cjs',
    });
    expect(plan.ok && plan.steps[0]).toMatchObject({
      command: '/usr/bin/node',
      args: expect.arrayContaining(['/usr/lib/node_modules/pnpm/bin/pnpm.cjs', 'rebuild']),
    });
  });

  test('refuses other platforms and architectures', () => {
    for (const [platform, arch] of [
      ['darwin', 'arm64'],
      ['linux', 'arm64'],
      ['win32', 'x64'],
    ] as const) {
      const plan = planGpuSetup({ ...linux20, platform, arch });
      expect(plan).toMatchObject({ ok: false, error: expect.stringContaining('needs Linux x64') });
    }
  });

  test('refuses Node >= 22 (and < 20.11) with the actual reason', () => {
    for (const nodeVersion of ['v22.12.0', 'v24.11.1', 'v18.20.4', 'v20.10.0']) {
      const plan = planGpuSetup({ ...linux20, nodeVersion });
      expect(plan.ok).toBe(false);
      if (plan.ok) continue;
      expect(plan.error).toMatch(/^gpu:setup: Node 20 \(≥ 20.11.0\) is required/);
    }
    const node22 = planGpuSetup({ ...linux20, nodeVersion: 'v22.12.0' });
    expect(!node22.ok && node22.error).toContain('util.isNullOrUndefined');
  });
});

describe('parseGpuSetupArgs', () => {
  test('flags, and unknown arguments throw with the usage', () => {
    expect(parseGpuSetupArgs(['--', '--dry-run'])).toEqual({ dryRun: true, doctorOnly: false, help: false });
    expect(parseGpuSetupArgs(['--doctor-only']).doctorOnly).toBe(true);
    expect(() => parseGpuSetupArgs(['--gpu'])).toThrow(
      /unknown argument "--gpu"[\s\S]*Usage: pnpm gpu:setup/,
    );
  });
});
