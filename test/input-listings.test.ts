import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject } from './helpers/project.js';

afterEach(cleanupProjects);

// Directory listings are shared between the globs of one build and kept
// after a node runs as long as the directory's stats say nothing was added
// (src/files/directory-listings.ts). These pin that a listing is not kept
// past a change a node made.
describe('directory listings within one build', () => {
  it('a glob evaluated after a node wrote into a directory already listed sees the new file', async () => {
    const project = createProject(
      { 'data/old.txt': 'old\n' },
      `version: 1
nodes:
  early:
    kind: run
    command: cat data/*.txt > early.out
    inputs: ["data/*.txt"]
    outputs: [early.out]
  gen:
    kind: run
    command: sleep 0.2 && echo new > data/new.txt && echo gen > gen.out
    needs: [early]
    outputs: [gen.out]
  late:
    kind: run
    command: cat data/*.txt > late.out
    needs: [gen]
    inputs: ["data/*.txt"]
    outputs: [late.out]
`,
    );
    // The listing of data/ is taken while the directory is old, so its stamp is trusted.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const result = await project.spx(['build', '-j', '1']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(project.read('late.out')).toBe('new\nold\n');
    expect(Object.keys(project.lock().nodes.late!.inputs)).toEqual(['data/new.txt', 'data/old.txt']);
    expect(Object.keys(project.lock().nodes.early!.inputs)).toEqual(['data/old.txt']);
  });

  it('globs over the same directory tree, one below the other, agree after a node added a subdirectory', async () => {
    const project = createProject(
      { 'tree/a/one.txt': '1\n' },
      `version: 1
nodes:
  wide:
    kind: run
    command: echo wide > wide.out
    inputs: ["tree/**/*.txt"]
    outputs: [wide.out]
  gen:
    kind: run
    command: sleep 0.2 && mkdir -p tree/a/b && echo 2 > tree/a/b/two.txt && echo gen > gen.out
    needs: [wide]
    outputs: [gen.out]
  narrow:
    kind: run
    command: echo narrow > narrow.out
    needs: [gen]
    inputs: ["tree/a/**/*.txt"]
    outputs: [narrow.out]
  wide-again:
    kind: run
    command: echo again > again.out
    needs: [narrow]
    inputs: ["tree/**/*.txt"]
    outputs: [again.out]
`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const result = await project.spx(['build', '-j', '1']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(Object.keys(project.lock().nodes.narrow!.inputs)).toEqual(['tree/a/b/two.txt', 'tree/a/one.txt']);
    expect(Object.keys(project.lock().nodes['wide-again']!.inputs)).toEqual(['tree/a/b/two.txt', 'tree/a/one.txt']);
  });
});
