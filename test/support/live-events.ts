import { io, type Socket } from 'socket.io-client';
import type { TestStack } from './stack';

// Dashboards as a test sees them: a Socket.io client per token on the stack's API, recording every
// event it receives. `close()` (in an `after`) closes every socket it opened.
export interface LiveEvent {
  name: string;
  payload: any;
}

export function liveEvents(stack: () => TestStack) {
  const sockets: Socket[] = [];
  return {
    async connect(token: string): Promise<{ socket: Socket; events: LiveEvent[] }> {
      const socket = io(stack().baseUrl, { auth: { token }, transports: ['websocket'], reconnection: false });
      sockets.push(socket);
      const events: LiveEvent[] = [];
      socket.onAny((name: string, payload: unknown) => events.push({ name, payload }));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return { socket, events };
    },
    close(): void {
      for (const socket of sockets) socket.close();
    },
  };
}
