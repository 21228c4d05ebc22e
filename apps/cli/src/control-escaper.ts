/** Options of {@link ControlEscaper}. */
export interface ControlEscaperOptions {
  /**
   * Pass SGR sequences (`ESC [ … m`: colours, bold) through untouched; set when the stream is a
   * terminal. @defaultValue false
   */
  keepSgr?: boolean;
}

// C0 controls but tab and newline, DEL, and C1 controls (U+0080–U+009F: 8-bit CSI, OSC, …).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: an SGR sequence starts with ESC.
const CONTROL_OR_SGR = /\x1b\[[0-9;:]{0,64}m|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// The start of an SGR sequence cut off by the end of a chunk: kept until the next one decides.
// biome-ignore lint/suspicious/noControlCharactersInRegex: an SGR sequence starts with ESC.
const SGR_PREFIX = /\x1b(?:\[[0-9;:]{0,64})?$/;

const visible = (control: string) => `\\x${control.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * A control character as visible text (`ESC` → `\x1b`), newlines and tabs kept: what a terminal
 * shows of text it must not interpret (no clipboard writes, titles, screen clears, cursor moves).
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, visible);
}

/**
 * Escapes the control characters of a stream of text chunks (a step's output) for a terminal,
 * as {@link escapeControls}, optionally keeping SGR colour sequences. Stateful: an SGR sequence
 * split between chunks is held back until it is complete, so nothing but a whole `ESC [ … m`
 * ever reaches the terminal raw. One instance per output stream.
 */
export class ControlEscaper {
  readonly #keepSgr: boolean;
  #pending = '';

  constructor(options: ControlEscaperOptions = {}) {
    this.#keepSgr = options.keepSgr ?? false;
  }

  /** The printable form of `chunk` (and of what an earlier chunk left pending). */
  write(chunk: string): string {
    if (!this.#keepSgr) return escapeControls(chunk);
    let text = this.#pending + chunk;
    const cut = SGR_PREFIX.exec(text);
    this.#pending = cut ? cut[0] : '';
    if (cut) text = text.slice(0, cut.index);
    return text.replace(CONTROL_OR_SGR, (match) => (match.length > 1 ? match : visible(match)));
  }

  /** Whatever is still held back, escaped: call once the stream ends. */
  end(): string {
    const rest = this.#pending;
    this.#pending = '';
    return escapeControls(rest);
  }
}
