/**
 * Finds the `temporal` CLI (which embeds the dev server), or builds it with Go when nothing else is available.
 *
 * Resolution order (DESIGN.md, "Temporal server"):
 *   1. env TEMPORAL_CLI_PATH: an explicit choice, so a wrong value is an error rather than a silent fallback;
 *   2. `temporal` on PATH, if it answers `--version`;
 *   3. the project's cached build: `<user cache dir>/gmsa-runbooks/temporal-cli/v1.5.1/temporal`;
 *   4. build that cached copy with `go install` (Go on PATH or in Go's standard install location);
 *   5. an error that says how to get a server or a CLI.
 *
 * Why v1.5.1: it is the last CLI tag whose go.mod has no `replace` directive. From v1.6.0 on, go.mod carries
 * `replace github.com/temporalio/cli/cliext => ./cliext`, and `go install module@version` refuses any module with
 * a replace directive, so later tags can only be built from a git checkout. v1.5.1 embeds server 1.29.1 and
 * UI 2.42.1, and has every `server start-dev` flag the project uses (including `--search-attribute`).
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export interface LocateTemporalCliOptions {
  /** Progress and diagnostics, one line per call. Defaults to stderr, because a first build runs for minutes. */
  log?: (line: string) => void;
  /** Allow building the CLI with Go when no binary is found (default true). */
  build?: boolean;
  /** Environment to read (TEMPORAL_CLI_PATH, PATH, XDG_CACHE_HOME, ...). Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
}

const isWindows = process.platform === 'win32';
const exeSuffix = isWindows ? '.exe' : '';

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The per-user cache directory, following each OS's convention (what Go's os.UserCacheDir does). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || os.homedir();
  if (process.platform === 'win32') {
    return env.LOCALAPPDATA || path.join(env.USERPROFILE || os.homedir(), 'AppData', 'Local');
  }
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches');
  // XDG says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  return xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache');
}

/** Where this project keeps its own build of the CLI. Versioned, so a future pin bump never reuses an old binary. */
export function cachedTemporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheDir(env), 'gmsa-runbooks', 'temporal-cli', TEMPORAL_CLI_VERSION, `temporal${exeSuffix}`);
}

/** How to get out of a "no CLI" situation; shared by the final error and a failed build. */
export const HOW_TO_GET_TEMPORAL = [
  'To run against Temporal, do one of the following:',
  '  - use an existing server: set TEMPORAL_ADDRESS=host:port (for example after `docker compose up`), and',
  '    TEMPORAL_NAMESPACE if it is not "default";',
  '  - install the Temporal CLI (`brew install temporal`, or the release download linked from',
  '    https://docs.temporal.io/cli#install) and put `temporal` on PATH or set TEMPORAL_CLI_PATH to it;',
  `  - install Go (https://go.dev/dl/) and this project builds the CLI ${TEMPORAL_CLI_VERSION} itself into`,
  '    its cache directory (the first build takes a few minutes and needs network access to the Go module proxy).',
].join('\n');

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) return false;
    // Windows has no execute bit: existence of the .exe is all there is to check.
    if (!isWindows) await fsp.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every executable called `name` on the PATH of `env`, in PATH order (PATHEXT-aware on Windows). */
async function findAllOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const pathVar = env.PATH ?? env.Path ?? '';
  const exts = isWindows ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean) : [''];
  const found: string[] = [];
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue; // an empty entry means "cwd"; never pick a binary up from wherever we happen to run
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (!found.includes(candidate) && (await isExecutableFile(candidate))) found.push(candidate);
    }
  }
  return found;
}

/** Resolves with the trimmed `--version` output, or null if the binary does not run or is not the Temporal CLI. */
function temporalVersion(file: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { env, timeout: 15_000, windowsHide: true }, (error, stdout) => {
      const out = String(stdout).trim();
      // Another program may well be called `temporal`; only accept the CLI's "temporal version x.y.z (...)".
      resolve(!error && /temporal version/i.test(out) ? out : null);
    });
  });
}

/**
 * Resolves the path of a usable `temporal` CLI, building it with Go as a last resort.
 * Throws an Error whose message explains how to get one when that is impossible.
 */
export async function locateTemporalCli(opts: LocateTemporalCliOptions = {}): Promise<string> {
  const log = opts.log ?? defaultLog;
  const env = opts.env ?? process.env;

  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    const resolved = path.resolve(explicit);
    if (!(await isExecutableFile(resolved))) {
      throw new Error(
        `TEMPORAL_CLI_PATH is set to "${explicit}", but that is not an executable file. ` +
          'Point it at the `temporal` CLI binary, or unset it to let the project find or build one.',
      );
    }
    return resolved;
  }

  for (const candidate of await findAllOnPath('temporal', env)) {
    if ((await temporalVersion(candidate, env)) !== null) return candidate;
    log(`Ignoring ${candidate}: it is on PATH but \`--version\` does not report a Temporal CLI.`);
  }

  const cached = cachedTemporalCliPath(env);
  if (await isExecutableFile(cached)) return cached;

  if (opts.build !== false) {
    const go = await findGo(env);
    if (go) return buildTemporalCli(go, cached, env, log);
  }

  throw new Error(
    `No Temporal CLI found: TEMPORAL_CLI_PATH is not set, there is no \`temporal\` on PATH, no cached build at ${cached}` +
      `${opts.build === false ? ' (and building is disabled)' : ', and no Go toolchain to build one'}.\n${HOW_TO_GET_TEMPORAL}`,
  );
}

/** `go` on PATH, else Go's standard install location (the official installers put it there, off PATH for non-login shells). */
async function findGo(env: NodeJS.ProcessEnv): Promise<string | null> {
  const onPath = await findAllOnPath('go', env);
  if (onPath.length > 0) return onPath[0];
  const standard = isWindows
    ? path.join(env.ProgramFiles || 'C:\\Program Files', 'Go', 'bin', 'go.exe')
    : '/usr/local/go/bin/go';
  return (await isExecutableFile(standard)) ? standard : null;
}

/**
 * `go install`s the pinned CLI into a fresh temp dir next to the final location, then renames it into place.
 * The rename is atomic on one filesystem, so a concurrent reader (or a second process building at the same time)
 * sees either no binary or a complete one, never a half-written file.
 */
async function buildTemporalCli(
  go: string,
  target: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<string> {
  const versionDir = path.dirname(target);
  await fsp.mkdir(versionDir, { recursive: true });
  const gobin = await fsp.mkdtemp(path.join(versionDir, '.build-'));
  const started = Date.now();
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go (first build takes a few minutes) …`);
  log(`  ${go} install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}  (GOBIN=${gobin})`);
  try {
    const tail: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
        // GOTOOLCHAIN=auto: v1.5.1 needs Go >= 1.25; an older local Go then fetches the right toolchain itself.
        // GOFLAGS is cleared so a developer's global `-mod=vendor` or similar cannot break a module-mode install.
        env: { ...env, GOBIN: gobin, GOTOOLCHAIN: 'auto', GOFLAGS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const onData = (chunk: Buffer): void => {
        for (const line of chunk.toString('utf8').split(/\r?\n/)) {
          if (!line.trim()) continue;
          log(`  ${line}`);
          tail.push(line);
          if (tail.length > 30) tail.shift();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      // The compile phase prints nothing for minutes; a heartbeat shows CI logs and users that it is not stuck.
      const heartbeat = setInterval(() => {
        log(`  … still building (${Math.round((Date.now() - started) / 1000)} s)`);
      }, 30_000);
      heartbeat.unref();
      child.on('error', (err) => {
        clearInterval(heartbeat);
        reject(err);
      });
      child.on('close', (exitCode) => {
        clearInterval(heartbeat);
        resolve(exitCode);
      });
    });
    const built = path.join(gobin, `temporal${exeSuffix}`);
    if (code !== 0 || !(await isExecutableFile(built))) {
      throw new Error(
        `Building the Temporal CLI failed (go install exited with ${code}).\n${tail.join('\n')}\n\n${HOW_TO_GET_TEMPORAL}`,
      );
    }
    try {
      await fsp.rename(built, target);
    } catch (err) {
      // Windows cannot rename over a file another process just put there (and may be running); theirs is as good.
      if (!(await isExecutableFile(target))) throw err;
    }
    log(`Built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
    return target;
  } finally {
    await fsp.rm(gobin, { recursive: true, force: true });
  }
}
