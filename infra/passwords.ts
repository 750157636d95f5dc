import { hash, verify } from '@node-rs/argon2';

// Here, below both, because the API (login, users, tenants) and db/ (the platform admin created at
// start-up) both hash passwords and neither may import the other.

// Argon2id with OWASP's baseline parameters (19 MiB, 2 passes).
const OPTIONS = { algorithm: 2 /* Argon2id: the package's const enum cannot be imported under isolatedModules */, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export class PasswordCheckBusy extends Error {
  constructor() {
    super('too many password checks waiting');
  }
}

// Each Argon2 check holds 19 MiB and a core for tens of milliseconds, and anyone can ask for one
// (an unknown e-mail pays for one too). At most `concurrency` run at once and at most `maxWaiting`
// wait behind them; past that a check is refused at once, so a flood costs bounded memory and CPU
// and is answered quickly instead of piling up.
export class HashingGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) {
      this.running++;
    } else {
      if (this.waiting.length >= this.maxWaiting) throw new PasswordCheckBusy();
      // The slot is handed over by the one finishing, so `running` already counts us.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}

let dummy: Promise<string> | undefined;

// Unknown e-mails still pay for one verification, through the same gate, so response time does
// not reveal which addresses have accounts.
export async function verifyPassword(passwordHash: string | null, password: string, opts: { gate?: HashingGate } = {}): Promise<boolean> {
  const check = async () => {
    if (passwordHash === null) {
      dummy ??= hashPassword('orquestra-timing-equaliser');
      await verify(await dummy, password).catch(() => false);
      return false;
    }
    return verify(passwordHash, password).catch(() => false);
  };
  return opts.gate ? opts.gate.run(check) : check();
}
