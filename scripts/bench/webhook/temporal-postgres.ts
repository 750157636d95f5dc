import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { freePort, waitForTemporal, type DevServer } from '../../lib/temporal-cli';
import { terminate } from '../../lib/supervisor';

// `--temporal postgres`: the full Temporal server (the same 1.29.1 the CLI embeds) on this
// machine's Postgres, as production runs it, instead of the dev server's SQLite file. Its binaries
// come from the Go module proxy (`go install`, about 4 minutes here the first time); its schema
// files ship in the module and the server's own SQL tool applies them to two fresh databases.

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';

export interface PostgresTemporal {
  databases: string[];
  launch: (onSpawn: (child: ChildProcess) => void) => Promise<DevServer>;
  address: string;
}

function goEnv(name: string): string {
  return execFileSync('go', ['env', name], { encoding: 'utf8' }).trim();
}

function findOrBuild(name: 'server' | 'sql', pkg: string, say: (m: string) => void): string {
  const bin = join(goEnv('GOPATH').split(':')[0] as string, 'bin', name);
  if (existsSync(bin)) {
    const v = execFileSync(bin, ['--version'], { encoding: 'utf8' });
    if (v.includes(TEMPORAL_SERVER_VERSION.slice(1))) return bin;
  }
  say(`building ${pkg}@${TEMPORAL_SERVER_VERSION} (go install; a few minutes the first time)...`);
  execFileSync('go', ['install', `${pkg}@${TEMPORAL_SERVER_VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bin;
}

export async function preparePostgresTemporal(o: { workDir: string; databasePrefix: string; pgHost: string; pgPort: number; pgUser: string; pgPassword: string; namespace: string; say: (m: string) => void }): Promise<PostgresTemporal> {
  const server = findOrBuild('server', `${MODULE}/cmd/server`, o.say);
  const sql = findOrBuild('sql', `${MODULE}/cmd/tools/sql`, o.say);
  const schemaRoot = join(goEnv('GOMODCACHE'), `${MODULE}@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  const databases: [string, string] = [`${o.databasePrefix}_temporal`, `${o.databasePrefix}_temporal_visibility`];
  const common = ['--plugin', 'postgres12', '--ep', o.pgHost, '-p', String(o.pgPort), '-u', o.pgUser, ...(o.pgPassword ? ['--pw', o.pgPassword] : [])];
  for (const [db, schema] of [[databases[0], 'temporal'], [databases[1], 'visibility']] as const) {
    const run = (...args: string[]) => execFileSync(sql, [...common, '--db', db, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    run('drop-database', '--force', '--defaultdb', 'postgres');
    run('create-database', '--defaultdb', 'postgres');
    run('setup-schema', '-v', '0.0');
    run('update-schema', '-d', join(schemaRoot, schema, 'versioned'));
  }
  o.say(`Temporal schema applied to ${databases.join(' and ')}`);

  // Membership ports are stored in a smallint column: below 32768, where the kernel's ephemeral
  // range (which freePort draws from) does not reach.
  const ports = { frontend: await freePort(), frontendHttp: await freePort(), frontendMembership: await lowFreePort() } as Record<string, number>;
  for (const s of ['history', 'matching', 'worker']) {
    ports[s] = await freePort();
    ports[`${s}Membership`] = await lowFreePort();
  }
  const root = join(o.workDir, 'temporal-server');
  mkdirSync(join(root, 'config', 'dynamicconfig'), { recursive: true });
  const store = (db: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${o.pgHost}:${o.pgPort}"
        connectProtocol: "tcp"
        user: "${o.pgUser}"
        password: "${o.pgPassword}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: string, extra = '') => `  ${name}:
    rpc:
      grpcPort: ${ports[name]}
      membershipPort: ${ports[`${name}Membership`]}
      bindOnLocalHost: true${extra}`;
  writeFileSync(
    join(root, 'config', 'development.yaml'),
    `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
${store(databases[0], 20)}
    visibility:
${store(databases[1], 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
${service('frontend', `\n      httpPort: ${ports.frontendHttp}`)}
${service('history')}
${service('matching')}
${service('worker')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${join(root, 'config', 'dynamicconfig', 'bench.yaml')}"
  pollInterval: "10s"
`,
  );
  // What the dev server turns on by itself and the product uses (updates; search attributes
  // visible at once after they are added).
  writeFileSync(
    join(root, 'config', 'dynamicconfig', 'bench.yaml'),
    `frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
`,
  );
  const address = `127.0.0.1:${ports.frontend}`;
  let namespaceReady = false;

  const launch = async (onSpawn: (child: ChildProcess) => void): Promise<DevServer> => {
    const child = spawn(server, ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    onSpawn(child);
    let tail = '';
    child.stderr?.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-3000);
    });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`temporal server exited (${signal ?? code}) before answering: ${tail}`))));
    await Promise.race([waitForTemporal({ address }, 120_000), exited]);
    if (!namespaceReady) {
      await Promise.race([registerNamespace(address, o.namespace), exited]);
      namespaceReady = true;
    }
    exited.catch(() => {});
    return {
      address,
      uiUrl: null,
      process: child,
      async stop() {
        await terminate(child, { graceMs: 15_000 });
      },
    };
  };
  return { databases, launch, address };
}

async function lowFreePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

// The dev server has its namespace from the start; the full server is told, then takes a few
// seconds (its namespace cache) before the namespace answers.
async function registerNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
      .catch((err: { code?: number }) => {
        if (err.code !== 6) throw err; // ALREADY_EXISTS
      });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}
