// The generated API types match the committed OpenAPI document (which a pytest test keeps equal to
// what the app serves), so a changed route or schema fails here until the types are regenerated.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Vitest runs from frontend/ (where its config is).
const SCRIPT = resolve('scripts/api-types.mjs');
const SPEC = resolve('../deploy/openapi/backend-api.yaml');

function check(input?: string): { code: number; stderr: string } {
  const args = [SCRIPT, '--check', ...(input ? ['--input', input] : [])];
  try {
    execFileSync(process.execPath, args, { encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stderr: string };
    return { code: err.status, stderr: err.stderr };
  }
}

describe('generated API types', () => {
  it('are current with deploy/openapi/backend-api.yaml', () => {
    const { code, stderr } = check();
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('are reported stale when the document gains a field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffe-openapi-'));
    const changed = join(dir, 'changed.yaml');
    const spec = readFileSync(SPEC, 'utf8');
    const edited = spec.replace(/^( +)Decision:\n\1 {2}properties:\n/m, '$1Decision:\n$1  properties:\n$1    extra_field:\n$1      type: string\n');
    expect(edited).not.toBe(spec);
    writeFileSync(changed, edited);
    const { code, stderr } = check(changed);
    expect(code).toBe(1);
    expect(stderr).toContain('npm run gen:api-types');
  });
});
