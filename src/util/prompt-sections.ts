/**
 * How a prompt is laid out: the instruction, then every file in a clearly
 * delimited section whose label names it, so that the model can tell the
 * files apart and cite them. The markers are unlikely in source code and
 * easy to spot in a log. Laid out by the nodes that assemble prompts, read
 * back by the echo provider, which reports what it was sent.
 */

const BEGIN = '<<<< BEGIN ';
const END = '<<<< END ';
const CLOSE = ' >>>>';
/** No character of the markers is special in a regular expression. */
const BEGIN_LINE = new RegExp(`^${BEGIN}(.+)${CLOSE}$`, 'gm');

/** One file of a prompt: the label that names it, and its text. */
export interface LaidOutSection {
  label: string;
  content: string;
}

/** The instruction, a blank line, then each section between its markers, each followed by a blank line. */
export function layOutPrompt(instruction: string, sections: readonly LaidOutSection[]): string {
  const parts = [instruction.trim(), ''];
  for (const { label, content } of sections) {
    parts.push(`${BEGIN}${label}${CLOSE}`, `${content.endsWith('\n') ? content : content + '\n'}${END}${label}${CLOSE}`, '');
  }
  return parts.join('\n');
}

/** The instruction and the section labels of a prompt laid out by `layOutPrompt`. */
export function parsePrompt(prompt: string): { instruction: string; labels: string[] } {
  const labels = [...prompt.matchAll(BEGIN_LINE)].map((match) => match[1]!);
  const instruction = prompt.split(`\n${BEGIN}`)[0]!.trim();
  return { instruction, labels };
}
