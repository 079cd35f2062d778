// How the box tree is split for @wasmer/sdk: files outside /workspace for a package, /workspace for the
// sandbox, symlinks followed inside the box, loops cut, and a key that changes exactly when the tree does.
import { describe, expect, it } from 'vitest';
import { copyBox } from '../../../runtime/core/engines/wasmer-fs.js';
import { FileNode, Vfs } from '../../../runtime/core/vfs.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function box(): Vfs {
  const vfs = Vfs.empty();
  vfs.mkdir('/usr/lib/x', { recursive: true });
  vfs.writeFile('/usr/lib/x/a', enc('a'));
  vfs.symlink('usr/lib', '/lib');
  vfs.symlink('/usr/lib/x/a', '/etc-a');
  vfs.symlink('/nowhere', '/dangling');
  vfs.symlink('..', '/usr/lib/x/up');
  vfs.mkdir('/workspace/in/empty', { recursive: true });
  vfs.writeFile('/workspace/in/w', enc('w'));
  vfs.writeFile('/odd\\name', enc('odd'));
  vfs.mkdir('/emptydir');
  return vfs;
}

describe('copyBox', () => {
  it('splits files at /workspace and follows symlinks inside the box', () => {
    const copy = copyBox(box());
    expect(Object.keys(copy.outside).sort()).toEqual(['/etc-a', '/lib/x/a', '/usr/lib/x/a']);
    expect(dec(copy.outside['/lib/x/a'])).toBe('a');
    expect([...copy.workspace.keys()]).toEqual(['/workspace/in/w']);
    expect([...copy.workspaceDirs].sort()).toEqual(['/workspace/in', '/workspace/in/empty']);
    expect(copy).toMatchObject({ files: 4, bytes: 4 });
  });

  it('hands out views of the box bytes, not copies', () => {
    const vfs = box();
    const copy = copyBox(vfs);
    expect(copy.outside['/usr/lib/x/a'].buffer).toBe((vfs.get('/usr/lib/x/a') as FileNode).bytes().buffer);
  });

  const changes: [string, boolean, (vfs: Vfs) => void][] = [
    ['nothing', false, () => undefined],
    ['a file written outside /workspace', true, (vfs) => vfs.writeFile('/usr/lib/x/a', enc('b'))],
    ['a file added outside /workspace', true, (vfs) => vfs.writeFile('/new', enc(''))],
    ['a file renamed outside /workspace', true, (vfs) => vfs.rename('/usr/lib/x/a', '/usr/lib/x/b')],
    ['a symlink retargeted', true, (vfs) => { vfs.unlink('/etc-a'); vfs.symlink('/workspace/in/w', '/etc-a'); }],
    ['only /workspace changed', false, (vfs) => vfs.writeFile('/workspace/in/w', enc('changed'))],
    ['only an empty directory added', false, (vfs) => vfs.mkdir('/another-empty')],
  ];
  it.each(changes)('key after %s: changed=%s', (_, changed, change) => {
    const vfs = box();
    const before = copyBox(vfs).key;
    change(vfs);
    expect(copyBox(vfs).key !== before).toBe(changed);
  });
});
