/** What a node's command printed is kept up to this size; beyond it, the tail. */
const MAX_BYTES = 256 * 1024;

/**
 * Keeps a command's combined output for the end-of-node report (and the
 * failure message), bounded so that a chatty command cannot exhaust memory.
 */
export class OutputBuffer {
  private chunks: string[] = [];
  private size = 0;
  private truncated = false;

  append(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > MAX_BYTES && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
      this.truncated = true;
    }
  }

  text(): string {
    const joined = this.chunks.join('');
    return this.truncated ? `[… earlier output cut …]\n${joined}` : joined;
  }
}
