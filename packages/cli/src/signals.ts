/**
 * Signals during a long command (`train`): SIGINT (Ctrl-C), SIGTERM (`kill`, `timeout`, job schedulers) and SIGHUP
 * (the terminal closed) all ask the command to stop cleanly — training stops after the current batch, and what
 * it has is still evaluated and written — and the process then exits with 128 + the signal's number (130, 143,
 * 129), as a shell expects. A second signal quits at once, after a clean-up that must not wait (removing a
 * half-written temporary folder), leaving any previous result untouched.
 */

/** The signals handled, and the exit code of each (128 + its number). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT;

/** How a signal is named to the user. */
export const signalName = (s: StopSignal) => (s === "SIGINT" ? "Ctrl-C" : s);

/**
 * Listens for the stop signals while installed. `signal` is aborted by the first one; `onFirst` says what
 * happens next; a second one runs `quitNow` (synchronous clean-up) and exits with the signal's code.
 */
export class StopSignals {
  readonly controller = new AbortController();
  /** The first signal received, if any. */
  received: StopSignal | undefined;
  private readonly waiting: (() => void)[] = [];
  private readonly handlers = new Map<StopSignal, () => void>();

  constructor(
    private readonly onFirst: (s: StopSignal) => void,
    private readonly quitNow: (s: StopSignal) => void,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  install(): this {
    for (const s of Object.keys(SIGNAL_EXIT) as StopSignal[]) {
      const handler = () => this.receive(s);
      this.handlers.set(s, handler);
      process.on(s, handler);
    }
    return this;
  }

  uninstall(): void {
    for (const [s, handler] of this.handlers) process.off(s, handler);
    this.handlers.clear();
  }

  /** The exit code for the signal received (130 when none was: a stop asked for otherwise). */
  get exitCode(): number {
    return SIGNAL_EXIT[this.received ?? "SIGINT"];
  }

  private receive(s: StopSignal): void {
    if (this.received !== undefined) {
      this.quitNow(s);
      process.exit(SIGNAL_EXIT[s]);
    }
    this.received = s;
    this.controller.abort();
    this.onFirst(s);
    for (const wake of this.waiting.splice(0)) wake();
  }

  /**
   * A test hook: when the environment variable `GRADGRAPH_TEST_PAUSE` names `phase` (a comma-separated list may
   * name several), says `paused at <phase>` on stderr and waits for a signal before going on, so that a test can
   * send one at exactly that point without sleeping (a second signal there quits at once). Does nothing
   * otherwise.
   */
  async pauseAt(phase: string, err: (text: string) => void): Promise<void> {
    const phases = (process.env.GRADGRAPH_TEST_PAUSE ?? "").split(",");
    if (!phases.includes(phase)) return;
    err(`paused at ${phase}\n`);
    // A signal listener does not keep Node running: a timer does, until the signal comes.
    const alive = setInterval(() => {}, 1 << 30);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    clearInterval(alive);
  }
}
