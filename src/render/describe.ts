import type { StaleReason } from '../fingerprint/explain.js';
import type { FailureReason, SkipReason } from '../scheduler/events.js';

/**
 * The words for the reasons a build keeps as data: one place, so that the
 * task list, the plain lines and `spx status` say the same thing.
 */

/** One line of why a node is stale, as `ninja -d explain` would say it. */
export function describeStaleReason(reason: StaleReason): string {
  switch (reason.reason) {
    case 'never-built':
      return 'never built';
    case 'forced':
      return 'forced (--force)';
    case 'kind-changed':
      return `kind changed from ${reason.from} to ${reason.to}`;
    case 'setting-changed':
      return `setting "${reason.setting}" changed`;
    case 'input-changed':
      return `input changed: ${reason.file}`;
    case 'input-added':
      return `input added: ${reason.file}`;
    case 'input-removed':
      return `input removed: ${reason.file}`;
    case 'more-inputs':
      return `input ${reason.change}: … and ${reason.count} more`;
    case 'now-needs':
      return `now needs "${reason.node}"`;
    case 'no-longer-needs':
      return `no longer needs "${reason.node}"`;
    case 'upstream-output-changed':
      return `output of "${reason.node}" changed`;
    case 'env-changed':
      return `environment variable ${reason.variable} changed`;
    case 'output-missing':
      return `output ${reason.output} missing`;
    case 'input-missing':
      return `input missing: ${reason.file}`;
    case 'cannot-select-inputs':
      return `cannot select inputs: ${reason.message}`;
    case 'upstream-will-run':
      return `"${reason.node}" would run first (its output may change)`;
  }
}

/** Why a node was not attempted, after "skipped: ". */
export function describeSkipReason(because: SkipReason): string {
  switch (because.reason) {
    case 'dependency-failed':
      return `"${because.node}" failed`;
    case 'awaiting-review':
      return `"${because.node}" awaits review (spx approve ${because.node})`;
    case 'not-built':
      return `"${because.node}" was not built`;
    case 'interrupted':
      return 'the build was interrupted';
    case 'stopped-after-failure':
      return 'the build stopped after a failure';
    case 'over-budget':
      return 'the build has spent its budget: no further model call starts';
  }
}

/** Why a node failed, after "✗ NODE: ". */
export function describeFailure(failure: FailureReason): string {
  switch (failure.reason) {
    case 'node-failure':
    case 'selection':
      return failure.message;
    case 'missing-input':
      return `input file not found: ${failure.files.join(', ')}`;
    case 'cache-miss':
      return 'not in the cache, and --cache-only forbids calling a model or an agent';
    case 'internal':
      return `internal error: ${failure.message}`;
  }
}
