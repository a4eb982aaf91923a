/**
 * One camera's command line: one SOAP exchange in flight at a time, in arrival order, and a burst of
 * motions coalesced. A motion (move or stop) that arrives while the last waiting job is also a motion
 * replaces it: the camera only needs the latest velocity, and a panel or a flow that repeats a command
 * 20 times in 50 ms would otherwise queue 20 round trips. Discrete jobs (presets, home, queries) are
 * never dropped and keep their place.
 */
export type JobKind = 'motion' | 'discrete';

export type JobResult<T> = { status: 'done'; value: T } | { status: 'coalesced' };

interface Job {
  kind: JobKind;
  run: () => Promise<unknown>;
  resolve: (r: JobResult<unknown>) => void;
  reject: (e: unknown) => void;
}

export class PtzCommandQueue {
  private readonly waiting: Job[] = [];
  private running = false;
  private sent = 0;
  private coalesced = 0;

  /** Resolves with the job's value, or `coalesced` if a later motion replaced it; rejects if it failed. */
  push<T>(kind: JobKind, run: () => Promise<T>): Promise<JobResult<T>> {
    return new Promise<JobResult<T>>((resolve, reject) => {
      const job: Job = { kind, run, resolve: resolve as (r: JobResult<unknown>) => void, reject };
      const last = this.waiting[this.waiting.length - 1];
      if (kind === 'motion' && last && last.kind === 'motion') {
        this.waiting[this.waiting.length - 1] = job;
        this.coalesced++;
        last.resolve({ status: 'coalesced' });
      } else {
        this.waiting.push(job);
      }
      this.pump();
    });
  }

  /** Jobs started so far and jobs replaced before they ran. */
  stats(): { sent: number; coalesced: number; waiting: number; busy: boolean } {
    return { sent: this.sent, coalesced: this.coalesced, waiting: this.waiting.length, busy: this.running };
  }

  private pump(): void {
    if (this.running) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.running = true;
    this.sent++;
    let p: Promise<unknown>;
    try {
      p = job.run();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (value) => job.resolve({ status: 'done', value }),
      (e: unknown) => job.reject(e),
    ).finally(() => {
      this.running = false;
      this.pump();
    });
  }
}
