import { describe, expect, test } from 'vitest';
import { assessNodeForGpu } from './node-support.js';

describe('assessNodeForGpu', () => {
  test('Node 20 (>= 20.11) is the supported version', () => {
    expect(assessNodeForGpu('v20.20.2').status).toBe('ok');
    expect(assessNodeForGpu('20.11.0').status).toBe('ok');
    expect(assessNodeForGpu('v20.10.0').status).toBe('missing');
  });

  test('Node 22 loads (warn); the reason is util.isNullOrUndefined, not N-API', () => {
    const a = assessNodeForGpu('v22.12.0');
    expect(a.status).toBe('warn');
    expect(a.detail).toContain('util.isNullOrUndefined');
    expect(a.detail).not.toMatch(/napi-v9/);
    expect(a.fix).toContain('Node 20');
  });

  test('Node 23 and 24 break every op (missing)', () => {
    for (const v of ['v23.0.0', 'v24.11.1']) {
      expect(assessNodeForGpu(v)).toMatchObject({
        status: 'missing',
        detail: expect.stringContaining('removed in Node 23'),
      });
    }
  });

  test("versions outside the repository's engines", () => {
    expect(assessNodeForGpu('v18.20.4').status).toBe('missing');
    expect(assessNodeForGpu('v21.7.3').detail).toContain('engines');
  });
});
