import { readFileSync } from 'node:fs';

// Listening sockets on a port, from the kernel: "0100007F" is 127.0.0.1, "00000000" any address.
export function listeningAddresses(port: number): string[] {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(hexPort)) out.push(local.split(':')[0] as string);
    }
  }
  return out;
}
