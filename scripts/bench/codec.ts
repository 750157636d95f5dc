import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { StaticDataKeys, TenantPayloadCodec } from '../../infra/payload-codec';

// What sealing costs per payload (infra/payload-codec.ts), keys already open, as the hot path
// sees it: `npm run bench:codec [-- <bytes> <count>]`.
async function main() {
  const size = Number(process.argv[2] ?? 2_000);
  const n = Number(process.argv[3] ?? 20_000);
  const key = { id: 'bench-key', key: randomBytes(32) };
  const codec = new TenantPayloadCodec(new StaticDataKeys([key], () => key));
  const payload = defaultPayloadConverter.toPayload({ text: 'x'.repeat(size), phone: '5511988887777' }) as Payload;
  const ctx = { type: 'workflow' as const, namespace: 'default', workflowId: 'conversation:6f1c2b7e-3d4a-4b5c-9e8f-0a1b2c3d4e5f:c' };
  for (let i = 0; i < 2_000; i++) await codec.decode(await codec.encode([payload], ctx));
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < n; i++) await codec.decode(await codec.encode([payload], ctx));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  console.log(
    JSON.stringify({ payloadBytes: payload.data?.length, count: n, usWallPerSealAndOpen: +((wall * 1000) / n).toFixed(1), usCpuPerSealAndOpen: +((cpu.user + cpu.system) / n).toFixed(1) }),
  );
}
void main();
