import { NodeFailure } from '../kind.js';

/** The change never passed verification: the node fails, and the worktree is kept for the user to inspect. */
export class VerifyFailure extends NodeFailure {}
