/** locateTemporalCli's resolution order, driven entirely through the env it is given (no real PATH or cache). */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedTemporalCliPath, locateTemporalCli, TEMPORAL_CLI_VERSION } from '../../temporal/cli-locator';

const FAKE_CLI = '#!/bin/sh\necho "temporal version 9.9.9 (Server 0.0.0, UI 0.0.0)"\n';

describe('locateTemporalCli', () => {
  let tmp: string;
  let emptyDir: string;
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);

  beforeEach(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gmsa-locator-'));
    emptyDir = path.join(tmp, 'empty');
    await fsp.mkdir(emptyDir);
    lines.length = 0;
  });

  afterEach(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  async function writeExecutable(file: string, text: string): Promise<string> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, text, { mode: 0o755 });
    return file;
  }

  it('rejects a TEMPORAL_CLI_PATH that points at a missing file, naming the variable', async () => {
    const env = { PATH: emptyDir, XDG_CACHE_HOME: path.join(tmp, 'cache'), TEMPORAL_CLI_PATH: path.join(tmp, 'nope') };
    await expect(locateTemporalCli({ env, build: false, log })).rejects.toThrow(/TEMPORAL_CLI_PATH/);
  });

  it('returns TEMPORAL_CLI_PATH when it is executable', async () => {
    const cli = await writeExecutable(path.join(tmp, 'bin', 'my-temporal'), FAKE_CLI);
    const env = { PATH: emptyDir, XDG_CACHE_HOME: path.join(tmp, 'cache'), TEMPORAL_CLI_PATH: cli };
    await expect(locateTemporalCli({ env, build: false, log })).resolves.toBe(cli);
  });

  it('finds `temporal` on PATH before the cached build', async () => {
    const onPath = await writeExecutable(path.join(tmp, 'bin', 'temporal'), FAKE_CLI);
    const env = {
      PATH: `${emptyDir}${path.delimiter}${path.dirname(onPath)}`,
      XDG_CACHE_HOME: path.join(tmp, 'cache'),
    };
    const cached = await writeExecutable(cachedTemporalCliPath(env), FAKE_CLI);
    expect(cached).toBe(path.join(tmp, 'cache', 'gmsa-runbooks', 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal'));
    await expect(locateTemporalCli({ env, build: false, log })).resolves.toBe(onPath);
  });

  it('skips a `temporal` on PATH that is not the Temporal CLI, and uses the cached build', async () => {
    await writeExecutable(path.join(tmp, 'bin', 'temporal'), '#!/bin/sh\necho "some other tool"\n');
    const env = { PATH: path.join(tmp, 'bin'), XDG_CACHE_HOME: path.join(tmp, 'cache') };
    const cached = await writeExecutable(cachedTemporalCliPath(env), FAKE_CLI);
    await expect(locateTemporalCli({ env, build: false, log })).resolves.toBe(cached);
    expect(lines.join('\n')).toMatch(/does not report a Temporal CLI/);
  });

  it('with nothing anywhere and building disabled, says how to get a server or a CLI', async () => {
    const env = { PATH: emptyDir, XDG_CACHE_HOME: path.join(tmp, 'cache') };
    const attempt = locateTemporalCli({ env, build: false, log });
    await expect(attempt).rejects.toThrow(/No Temporal CLI found/);
    await expect(attempt).rejects.toThrow(/TEMPORAL_ADDRESS/);
    await expect(attempt).rejects.toThrow(/brew install temporal/);
    await expect(attempt).rejects.toThrow(/TEMPORAL_CLI_PATH/);
    await expect(attempt).rejects.toThrow(/install Go/);
  });
});
