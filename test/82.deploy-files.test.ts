/**
 * The deployment files in deploy/ are checked the way their tools would: the systemd unit with
 * `systemd-analyze verify` (any warning fails), the Dockerfile parsed with dockerfile-ast (the
 * parser the Docker language server uses) against the rules docs/deploy.md promises: a pinned
 * Node base image, a non-root user, the store on a volume, a readiness health check, exec-form
 * commands, no secret in an ENV. (No Docker daemon runs in CI, so it is not built there.)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DockerfileParser } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CI = process.env.CI === 'true' || process.env.CI === '1';
const haveSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('deploy/', () => {
  it('deploy/licit.service passes systemd-analyze verify without a warning, hardened as documented', (ctx) => {
    if (!haveSystemd) {
      if (CI) throw new Error('systemd-analyze is missing (apt-get install systemd)');
      return ctx.skip('systemd-analyze is missing');
    }
    const r = spawnSync('systemd-analyze', ['verify', `${ROOT}deploy/licit.service`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // It exits 0 on unknown keys and typos, printing them: any output is a failure here.
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    const unit = readFileSync(`${ROOT}deploy/licit.service`, 'utf8');
    for (const line of ['User=licit', 'EnvironmentFile=/etc/licit/env', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/licit', 'NoNewPrivileges=yes', 'KillSignal=SIGTERM']) expect(unit).toContain(line);
    expect(unit).not.toMatch(/--admin-token/); // the token never on a command line
  });

  it('deploy/Dockerfile: pinned base, non-root, volume, readiness health check, exec form, no secret in ENV', () => {
    const file = DockerfileParser.parse(readFileSync(`${ROOT}deploy/Dockerfile`, 'utf8'));
    const ins = file.getInstructions();
    const of = (k: string) => ins.filter((i) => i.getKeyword() === k);
    const from = of('FROM')[0]?.getArgumentsContent() ?? '';
    expect(from).toMatch(/^node:20\.\d+-bookworm-slim$/);
    const users = of('USER');
    expect(users.at(-1)?.getArgumentsContent()).toBe('licit');
    // The last USER comes before the entry point: the server never runs as root.
    const entry = of('ENTRYPOINT')[0];
    expect(entry).toBeDefined();
    expect(ins.indexOf(users.at(-1)!)).toBeLessThan(ins.indexOf(entry!));
    expect(entry!.getArgumentsContent()?.trim().startsWith('[')).toBe(true);
    expect(of('VOLUME')[0]?.getArgumentsContent()).toContain('/var/lib/licit');
    const health = of('HEALTHCHECK')[0]?.getArgumentsContent() ?? '';
    expect(health).toContain('/v1/ready');
    for (const env of of('ENV')) expect(env.getArgumentsContent() ?? '').not.toMatch(/TOKEN|SECRET|KEY=/i);
  });
});
