import { note, supervisor, waitForReady, type Service, type TemporalServer } from './processes';
import { sleep } from './stats';

// Chaos: the worker and the API SIGKILLed at random (seeded) moments and restarted while the load
// goes on, the Temporal server once; and the timeline of what happened, for the report.

export interface ChaosEvent {
  at: number; // ms after the start of the sending window
  target: 'worker' | 'api' | 'temporal';
  downMs: number;
}

export function planChaos(rng: () => number, windowMs: number): ChaosEvent[] {
  const events: ChaosEvent[] = [];
  const spacing = Math.max(5_000, windowMs / 10);
  const pick = (target: ChaosEvent['target'], n: number, lo: number, hi: number, downLo: number, downHi: number) => {
    const times: number[] = [];
    for (let guard = 0; times.length < n && guard < 1000; guard++) {
      const t = lo + rng() * (hi - lo);
      if (times.every((x) => Math.abs(x - t) >= spacing)) times.push(t);
    }
    for (const t of times) events.push({ at: Math.round(t), target, downMs: Math.round(downLo + rng() * (downHi - downLo)) });
  };
  pick('worker', 2 + (rng() < 0.5 ? 1 : 0), 0.05 * windowMs, 0.85 * windowMs, 1_000, 3_000);
  pick('api', 2 + (rng() < 0.5 ? 1 : 0), 0.05 * windowMs, 0.85 * windowMs, 1_000, 3_000);
  pick('temporal', 1, 0.3 * windowMs, 0.7 * windowMs, 2_000, 2_000);
  return events.sort((a, b) => a.at - b.at);
}

let timelineStart = 0;
export const timelineEntries: string[] = [];
export function startTimeline(at: number): void {
  timelineStart = at;
}

export function timeline(text: string): void {
  const t = timelineStart ? `t=${((Date.now() - timelineStart) / 1000).toFixed(1)}s` : 'setup';
  const line = `${t} ${text}`;
  timelineEntries.push(line);
  note(line);
}

export async function runChaos(e: ChaosEvent, s: { api: Service; worker: Service; temporal: TemporalServer; apiUrl: string }): Promise<void> {
  if (supervisor.stopping) return;
  if (e.target === 'temporal') {
    if (!s.temporal.server) return timeline('temporal: not running, kill skipped');
    const pid = s.temporal.server.process.pid;
    s.temporal.chaosKills++;
    await s.temporal.kill();
    timeline(`temporal SIGKILL (pid ${pid}); restarting in ${e.downMs} ms`);
    await restartTemporalAfter(s.temporal, e.downMs, 'chaos');
    return;
  }
  const svc = e.target === 'api' ? s.api : s.worker;
  if (!svc.running) return timeline(`${svc.name}: not running, kill skipped`);
  const pid = svc.proc?.pid;
  svc.chaosKills++;
  await svc.kill('SIGKILL');
  timeline(`${svc.name} SIGKILL (pid ${pid}); restarting in ${e.downMs} ms`);
  await sleep(e.downMs);
  if (supervisor.stopping) return;
  svc.start();
  const restartedAt = Date.now();
  timeline(`${svc.name} restarted (pid ${svc.proc?.pid})`);
  if (svc.name === 'api') {
    try {
      await waitForReady(s.apiUrl, 60_000);
      timeline(`api ready again ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after restart`);
    } catch (err) {
      timeline(`api not ready after restart: ${(err as Error).message}`);
    }
  }
}

let temporalRestarting = false;
export async function restartTemporalAfter(t: TemporalServer, delayMs: number, why: string): Promise<void> {
  if (temporalRestarting) return;
  temporalRestarting = true;
  try {
    await sleep(delayMs);
    if (supervisor.stopping) return;
    const started = Date.now();
    await t.start();
    timeline(`temporal back (pid ${t.server?.process.pid}, ${why}) after ${((Date.now() - started) / 1000).toFixed(1)} s of start-up`);
  } catch (err) {
    timeline(`temporal restart failed: ${(err as Error).message}`);
  } finally {
    temporalRestarting = false;
  }
}
