// The web page's real terminal: the one file that imports @xterm/xterm, shipped as DIST/terminal.js and
// loaded by browser-terminal.ts once the box has started. It shows the guest's output as it streams
// (stderr in red), and turns keystrokes into lines of input, since a box's stdin is a pipe, not a tty:
// characters echo locally, Backspace edits, Enter sends the line, Ctrl-D ends the input and Ctrl-C stops
// the run.
import { Terminal } from '@xterm/xterm';
import type { KeyboardHandlers, PageTerminal } from './browser-terminal.js';

/** An xterm.js terminal in `element`, sized to it. */
export function createXterm(element: HTMLElement): PageTerminal {
  const term = new Terminal({ convertEol: true, cursorBlink: true, scrollback: 5000, fontSize: 14, theme: { background: '#101418' } });
  term.open(element);
  fit(term, element);
  new ResizeObserver(() => fit(term, element)).observe(element);
  let handlers: KeyboardHandlers | undefined;
  let line = '';
  term.onData((data) => {
    if (!handlers || data.startsWith('\x1b')) return; // arrows and function keys: no line editing beyond Backspace
    for (const ch of data) line = key(ch, line, term, handlers);
  });
  return {
    stdout: (bytes) => term.write(bytes),
    stderr: (bytes) => (term.write('\x1b[31m'), term.write(bytes), term.write('\x1b[0m')),
    note: (text) => term.write(`\x1b[2m${text}\x1b[0m\n`),
    clear: () => ((line = ''), term.reset()),
    flushed: () => new Promise((resolve) => term.write('', resolve)),
    lines: () => bufferLines(term),
    keyboard: (next) => ((handlers = next), (line = '')),
    focus: () => term.focus(),
  };
}

/** Apply one typed character to the line being edited; returns the line after it. */
function key(ch: string, line: string, term: Terminal, on: KeyboardHandlers): string {
  switch (ch) {
    case '\r':
      term.write('\r\n');
      on.line(line + '\n');
      return '';
    case '\x7f':
    case '\b':
      if (line !== '') term.write('\b \b');
      return line.slice(0, -1);
    case '\x04':
      term.write('^D\r\n');
      if (line !== '') on.line(line);
      on.end();
      return '';
    case '\x03':
      term.write('^C\r\n');
      on.interrupt();
      return '';
    default:
      if (ch < ' ' && ch !== '\t') return line;
      term.write(ch);
      return line + ch;
  }
}

function bufferLines(term: Terminal): string[] {
  const buffer = term.buffer.active;
  const out: string[] = [];
  for (let y = 0; y < buffer.length; y++) {
    const row = buffer.getLine(y);
    if (!row) continue;
    // A wrapped row continues the line above it.
    if (row.isWrapped && out.length > 0) out[out.length - 1] += row.translateToString(true);
    else out.push(row.translateToString(true));
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/** Size the terminal to its element, from the size of one character cell. */
function fit(term: Terminal, element: HTMLElement): void {
  const probe = document.createElement('span');
  probe.textContent = 'W'.repeat(20);
  probe.style.cssText = `position:absolute;visibility:hidden;font-family:${term.options.fontFamily};font-size:${term.options.fontSize}px;white-space:pre`;
  document.body.append(probe);
  const cell = { width: probe.offsetWidth / 20, height: probe.offsetHeight * (term.options.lineHeight ?? 1) };
  probe.remove();
  if (cell.width === 0 || cell.height === 0) return;
  const cols = Math.max(20, Math.floor((element.clientWidth - 16) / cell.width));
  const rows = Math.max(5, Math.floor(element.clientHeight / cell.height));
  if (cols !== term.cols || rows !== term.rows) term.resize(cols, rows);
}
