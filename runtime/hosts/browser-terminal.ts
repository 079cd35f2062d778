// The web page's terminal, as the page uses it. The real terminal (browser-xterm.ts, @xterm/xterm) is
// large, so the page starts without it: output that comes before it is up is shown as plain text in
// the terminal's place and kept, and handed to the real terminal, in order, when it takes over. The
// page asks for it once the box has started (`upgrade`); reading the terminal's lines or waiting for it
// to be flushed brings it up too, so a finished run is always in the real terminal.
/** What the page does with the keyboard. */
export interface KeyboardHandlers {
  line(text: string): void;
  end(): void;
  interrupt(): void;
}

/** The page's terminal. */
export interface PageTerminal {
  stdout(bytes: Uint8Array): void;
  stderr(bytes: Uint8Array): void;
  /** A note from wasmbox itself (not the guest), shown dimmed on a line of its own. */
  note(text: string): void;
  clear(): void;
  /** Resolves once everything written so far is in the terminal's buffer (xterm parses writes later). */
  flushed(): Promise<void>;
  /** The text on screen and in the scrollback, one string per line (tests and copy-out read this). */
  lines(): string[];
  /** Where keystrokes go: the current run, or nowhere between runs. */
  keyboard(handlers: KeyboardHandlers | undefined): void;
  focus(): void;
}

/** The page's terminal, plain text until `upgrade` has brought up the real one. */
export interface UpgradableTerminal extends PageTerminal {
  /** Load the real terminal (once) and move everything shown so far into it; resolves when it is up. */
  upgrade(): Promise<void>;
  /** Run `fn` once the real terminal is up (or failed to load), at once if it is. */
  whenUp(fn: () => void): void;
}

/** What the plain text stand-in keeps to hand over: the guest's bytes per stream, and wasmbox's notes. */
type Shown = { fd: 1 | 2; bytes: Uint8Array } | { note: string };

/** Makes the real terminal in an element (browser-xterm.ts's createXterm). */
export type RealTerminal = (element: HTMLElement) => PageTerminal;

/** The page's terminal in `element`; `load` fetches the real one (`import()` of DIST/terminal.js). */
export function createTerminal(element: HTMLElement, load: () => Promise<RealTerminal>): UpgradableTerminal {
  const early = new PlainText(element);
  let real: PageTerminal | undefined;
  let up = false;
  let loading: Promise<void> | undefined;
  let handlers: KeyboardHandlers | undefined;
  let focused = false;
  const waiting: (() => void)[] = [];
  const upgrade = (): Promise<void> =>
    (loading ??= load()
      .then((make) => {
        real = early.handOver(make);
        real.keyboard(handlers);
        if (focused) real.focus();
      })
      .catch((err: unknown) => early.write({ note: `wasmbox: the terminal did not load (${(err as Error).message}); output stays as plain text` }))
      .finally(() => ((up = true), waiting.splice(0).forEach((fn) => fn()))));
  return {
    stdout: (bytes) => (real ? real.stdout(bytes) : early.write({ fd: 1, bytes })),
    stderr: (bytes) => (real ? real.stderr(bytes) : early.write({ fd: 2, bytes })),
    note: (text) => (real ? real.note(text) : early.write({ note: text })),
    clear: () => (real ? real.clear() : early.clear()),
    flushed: async () => (await upgrade(), await real?.flushed()),
    lines: () => (real ? real.lines() : early.lines()),
    keyboard: (next) => ((handlers = next), real?.keyboard(next)),
    focus: () => ((focused = true), real?.focus()),
    upgrade,
    whenUp: (fn) => (up ? fn() : void waiting.push(fn)),
  };
}

/** Output as plain text in a <pre>, kept so the real terminal can replay it. */
class PlainText {
  private shown: Shown[] = [];
  private readonly pre: HTMLPreElement;
  private readonly decoders = { 1: new TextDecoder(), 2: new TextDecoder() };

  /** The boot script (browser-boot.ts) may have shown output already: its <pre> is taken over, and its
   *  text replaced when the run it belongs to is handed to the page. */
  constructor(private readonly element: HTMLElement) {
    this.pre = element.querySelector('pre.plain-terminal') ?? element.appendChild(document.createElement('pre'));
    this.pre.className = 'plain-terminal';
  }

  write(item: Shown): void {
    this.shown.push(item);
    const text = 'note' in item ? `${item.note}\n` : this.decoders[item.fd].decode(item.bytes, { stream: true });
    const span = document.createElement('span');
    span.className = 'note' in item ? 'note' : item.fd === 2 ? 'stderr' : 'stdout';
    span.textContent = text;
    this.pre.append(span);
  }

  clear(): void {
    this.shown = [];
    this.pre.textContent = '';
    this.decoders[1] = new TextDecoder();
    this.decoders[2] = new TextDecoder();
  }

  lines(): string[] {
    const lines = (this.pre.textContent ?? '').split('\n');
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  /** Make the real terminal in this element and give it everything shown so far, in order. */
  handOver(make: RealTerminal): PageTerminal {
    this.pre.remove();
    const real = make(this.element);
    for (const item of this.shown.splice(0)) {
      if ('note' in item) real.note(item.note);
      else if (item.fd === 1) real.stdout(item.bytes);
      else real.stderr(item.bytes);
    }
    return real;
  }
}
