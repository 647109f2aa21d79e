import { readFile, readdir, readlink } from 'node:fs/promises';

/**
 * Which process opened a loopback TCP connection, found through /proc (Linux). Every broker talks
 * to 127.0.0.1, so the proxy cannot tell peers apart by address; it looks up the connecting
 * socket's inode in /proc/net/tcp and then which known process holds that inode. That is what
 * lets the harness cut one broker off from another in one direction only, without network
 * namespaces or root.
 */

/** The inode of the socket bound to 127.0.0.1:`port` and connected to 127.0.0.1:`peerPort`, if any. */
async function socketInode(port: number, peerPort: number): Promise<string | undefined> {
  let table: string;
  try {
    table = await readFile('/proc/net/tcp', 'utf8');
  } catch {
    return undefined; // not Linux: every connection counts as the harness's own
  }
  const local = `0100007F:${hex4(port)}`;
  const remote = `0100007F:${hex4(peerPort)}`;
  for (const line of table.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local && cols[2] === remote) return cols[9];
  }
  return undefined;
}

function hex4(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

async function holdsInode(pid: number, inode: string): Promise<boolean> {
  const target = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if ((await readlink(`/proc/${pid}/fd/${fd}`)) === target) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/**
 * The name of the process (among `candidates`, pid → name) that owns the client end of a
 * connection accepted on `listenPort` from `remotePort`; undefined when none of them does.
 */
export async function connectionOwner(listenPort: number, remotePort: number, candidates: ReadonlyMap<number, string>): Promise<string | undefined> {
  const inode = await socketInode(remotePort, listenPort);
  if (!inode || inode === '0') return undefined;
  for (const [pid, name] of candidates) if (await holdsInode(pid, inode)) return name;
  return undefined;
}
