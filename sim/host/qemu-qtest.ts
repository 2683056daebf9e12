// A QEMU process driven through its qtest protocol on stdio (QEMU docs/devel/qtest.rst): one request
// line in, one reply line out ("OK [values]" or "FAIL reason"). The session serialises requests, puts
// a deadline on every exchange, and kills QEMU however the session ends, including when Node exits.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";

/** The QEMU to run; NVME_HOST_QEMU overrides it (another build, or a missing path to see the suite skip). */
export const QEMU_BINARY = process.env.NVME_HOST_QEMU || "qemu-system-x86_64";
const INSTALL_HINT = "install it with: apt-get install -y qemu-system-x86";

export class QtestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QtestError";
  }
}

/** Whether QEMU can be run here; the reason is shown when it cannot (test suites skip on it). */
export function probeQemu(binary = QEMU_BINARY): { available: true; version: string } | { available: false; reason: string } {
  const result = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? `${binary} is not installed; ${INSTALL_HINT}` : `${binary} could not be run: ${result.error.message}`;
    return { available: false, reason: why };
  }
  if (result.status !== 0) return { available: false, reason: `${binary} --version exited with ${result.status}: ${result.stderr.trim()}` };
  return { available: true, version: result.stdout.split("\n")[0].trim() };
}

export interface QtestLaunch {
  binary?: string;
  /** Machine, device and drive arguments; `-qtest stdio` and logging options are added here. */
  args: string[];
  /** Deadline for each request/reply exchange. */
  exchangeTimeoutMs?: number;
}

interface PendingReply {
  request: string;
  resolve: (words: string[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const liveProcesses = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveProcesses) child.kill("SIGKILL");
});

export class QtestSession {
  private stdoutTail = "";
  private stderrText = "";
  private pending: PendingReply | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private exitReason: string | null = null;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly binary: string,
    private readonly exchangeTimeoutMs: number,
  ) {
    liveProcesses.add(child);
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => this.onStdout(chunk));
    child.stderr!.on("data", (chunk: string) => {
      // Keep only the tail: QEMU's stderr is for diagnosis, and a chatty run must not grow without bound.
      this.stderrText = (this.stderrText + chunk).slice(-8192);
    });
    child.stdin!.on("error", () => {
      // EPIPE after QEMU died; the exit handler reports the cause.
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      const why = error.code === "ENOENT" ? `${binary} is not installed; ${INSTALL_HINT}` : `${binary} failed: ${error.message}`;
      this.fail(why);
    });
    child.on("exit", () => liveProcesses.delete(child));
    // "close" comes after stderr is drained, so the reason carries QEMU's last words.
    this.closed = new Promise<void>((resolve) =>
      child.on("close", (code, signal) => {
        this.fail(`${binary} exited (${signal ?? `code ${code}`})${this.stderrText ? `; stderr: ${this.stderrText.trim()}` : ""}`);
        resolve();
      }),
    );
  }

  static async start(launch: QtestLaunch): Promise<QtestSession> {
    const binary = launch.binary ?? QEMU_BINARY;
    const args = [...launch.args, "-qtest", "stdio", "-qtest-log", "/dev/null"];
    const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
    const session = new QtestSession(child, binary, launch.exchangeTimeoutMs ?? 30_000);
    // The first exchange proves QEMU parsed its command line and the protocol is up.
    try {
      await session.request("inl 0xcf8");
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  }

  /** Send one request line; resolves with the words after "OK". */
  request(line: string): Promise<string[]> {
    const next = this.queue.then(() => this.exchange(line));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends QEMU; resolves once its pipes are closed, so every later request is refused as "not sent". */
  async close(): Promise<void> {
    const running = this.child.exitCode === null && this.child.signalCode === null;
    const forced = running ? setTimeout(() => this.child.kill("SIGKILL"), 2000) : undefined;
    if (running) this.child.kill("SIGTERM");
    await this.closed;
    clearTimeout(forced);
  }

  private exchange(line: string): Promise<string[]> {
    if (this.exitReason) return Promise.reject(new QtestError(`qtest request "${line}" not sent: ${this.exitReason}`));
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new QtestError(`qtest request "${abbreviate(line)}" got no reply within ${this.exchangeTimeoutMs} ms; stderr: ${this.stderrText.trim() || "(empty)"}`));
        this.child.kill("SIGKILL");
      }, this.exchangeTimeoutMs);
      this.pending = { request: line, resolve, reject, timer };
      this.child.stdin!.write(line + "\n");
    });
  }

  private onStdout(chunk: string): void {
    this.stdoutTail += chunk;
    let newline: number;
    while ((newline = this.stdoutTail.indexOf("\n")) >= 0) {
      const reply = this.stdoutTail.slice(0, newline).trim();
      this.stdoutTail = this.stdoutTail.slice(newline + 1);
      this.onReply(reply);
    }
  }

  private onReply(reply: string): void {
    // Interrupt notifications arrive unsolicited only when interception is enabled; we never enable it.
    if (reply.startsWith("IRQ") || reply === "") return;
    const pending = this.pending;
    if (!pending) {
      this.fail(`unexpected qtest output with no request outstanding: "${abbreviate(reply)}"`);
      this.child.kill("SIGKILL");
      return;
    }
    this.pending = null;
    clearTimeout(pending.timer);
    const words = reply.split(/\s+/);
    if (words[0] === "OK") pending.resolve(words.slice(1));
    else pending.reject(new QtestError(`qtest request "${abbreviate(pending.request)}" failed: ${reply}`));
  }

  private fail(reason: string): void {
    this.exitReason ??= reason;
    const pending = this.pending;
    if (pending) {
      this.pending = null;
      clearTimeout(pending.timer);
      pending.reject(new QtestError(`qtest request "${abbreviate(pending.request)}" failed: ${this.exitReason}`));
    }
  }
}

function abbreviate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
