/** Hides and shows the cursor, so that it does not flicker across the lines being redrawn. */
export const HIDE_CURSOR = '\x1b[?25l';
export const SHOW_CURSOR = '\x1b[?25h';
/** Clears from the cursor to the end of the line, and to the end of the screen. */
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/**
 * A block of lines at the bottom of a terminal, redrawn in place: each
 * draw moves the cursor back up over the last one and overwrites it.
 * Lines are cut to the terminal's width, since a wrapped line would take
 * two rows and the next draw would climb one row short.
 */
export class LiveFrame {
  private height = 0;
  private drawn = false;

  constructor(private readonly out: NodeJS.WritableStream & { columns?: number }) {}

  /** `lines` as plain text (cut to the width) and how to colour each once cut. */
  draw(lines: readonly { text: string; paint: (text: string) => string }[]): void {
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    const up = this.height > 0 ? `\x1b[${this.height}A` : '';
    const body = lines.map((line) => line.paint(cut(line.text, width)) + CLEAR_LINE + '\n').join('');
    this.out.write((this.drawn ? '' : HIDE_CURSOR) + up + '\r' + body + CLEAR_BELOW);
    this.height = lines.length;
    this.drawn = true;
  }

  /** Leaves the last drawing where it is, for the lines that follow it, and shows the cursor again. */
  close(): void {
    if (this.drawn) this.out.write(SHOW_CURSOR);
    this.height = 0;
    this.drawn = false;
  }

  get isDrawing(): boolean {
    return this.drawn;
  }
}

function cut(text: string, width: number): string {
  const characters = [...text];
  return characters.length <= width ? text : characters.slice(0, width - 1).join('') + '…';
}
