import { displayPath } from './note.js';

/** A place in one of the user's files, 1-based, as editors show it. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/**
 * An error in the user's input (pipeline file, command line): reported as
 * `file:line:column: message`, without a stack trace, with exit code 2.
 */
export class UserError extends Error {
  readonly location: SourceLocation | undefined;
  constructor(message: string, location?: SourceLocation) {
    super(message);
    this.name = 'UserError';
    this.location = location;
  }

  format(cwd: string = process.cwd()): string {
    if (!this.location) return `spx: error: ${this.message}`;
    const { file, line, column } = this.location;
    return `${displayPath(file, cwd)}:${line}:${column}: error: ${this.message}`;
  }
}

/** Several user errors found in one pass, so the user can fix them all at once. */
export class UserErrors extends Error {
  readonly errors: UserError[];
  constructor(errors: UserError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'UserErrors';
    this.errors = errors;
  }

  format(cwd: string = process.cwd()): string {
    return this.errors.map((e) => e.format(cwd)).join('\n');
  }
}
