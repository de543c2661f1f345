/**
 * Memory and CPU read from Linux's /proc, for processes and for the kernel. Read by the
 * orchestrator rather than asked of the process measured: the reading is of this instant, not of
 * whenever a busy server gets round to answering, and it costs the measured process nothing.
 * Off Linux the files are missing and the readings are NaN or 0.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The number after `name:` at the start of a line (kB in meminfo and smaps). */
export const field = (text: string, name: string): number =>
  Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);

export function memAvailable(): number {
  return field(readText('/proc/meminfo'), 'MemAvailable') * 1024;
}

/** Kernel memory that connections cost outside any process's RSS; bytes, and socket counts. */
export interface Kernel {
  memAvailable: number;
  slab: number;
  sUnreclaim: number;
  sockets: number;
  tcpInuse: number;
  tcpOrphan: number;
  tcpTw: number;
  tcpMem: number;
}
export function kernel(): Kernel {
  const meminfo = readText('/proc/meminfo');
  const sockstat = readText('/proc/net/sockstat');
  const num = (re: RegExp): number => Number(re.exec(sockstat)?.[1] ?? NaN);
  return {
    memAvailable: field(meminfo, 'MemAvailable') * 1024,
    slab: field(meminfo, 'Slab') * 1024,
    sUnreclaim: field(meminfo, 'SUnreclaim') * 1024,
    sockets: num(/sockets: used (\d+)/),
    tcpInuse: num(/^TCP: inuse (\d+)/m),
    tcpOrphan: num(/^TCP:.* orphan (\d+)/m),
    tcpTw: num(/^TCP:.* tw (\d+)/m),
    tcpMem: num(/^TCP:.* mem (\d+)/m) * 4096,
  };
}

/** Summed over processes, from /proc/PID/smaps_rollup; bytes. */
export interface Mem {
  processes: number;
  rss: number;
  pss: number;
  private: number;
  shared: number;
  anonymous: number;
}
export function memoryOf(pids: readonly number[]): Mem {
  const m: Mem = { processes: 0, rss: 0, pss: 0, private: 0, shared: 0, anonymous: 0 };
  for (const pid of pids) {
    const s = readText(`/proc/${pid}/smaps_rollup`);
    if (s === '') continue;
    m.processes++;
    m.rss += field(s, 'Rss') * 1024;
    m.pss += field(s, 'Pss') * 1024;
    m.private += (field(s, 'Private_Clean') + field(s, 'Private_Dirty')) * 1024;
    m.shared += (field(s, 'Shared_Clean') + field(s, 'Shared_Dirty')) * 1024;
    m.anonymous += field(s, 'Anonymous') * 1024;
  }
  return m;
}
export const minus = (a: Mem, b: Mem): Mem => ({
  processes: a.processes,
  rss: a.rss - b.rss,
  pss: a.pss - b.pss,
  private: a.private - b.private,
  shared: a.shared - b.shared,
  anonymous: a.anonymous - b.anonymous,
});

/**
 * User and system CPU of one process since it started, µs; null when it cannot be read (gone, or
 * not Linux). /proc counts in USER_HZ ticks: 100 per second on Linux x86 and arm.
 */
export function processCpuUs(pid: number): { user: number; system: number } | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === '') return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name may hold spaces
  if (fields.length < 13) return null;
  return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 }; // utime, stime (fields 14, 15)
}

/** utime + stime of the processes, in ms. */
export function cpuMs(pids: readonly number[]): number {
  let us = 0;
  for (const pid of pids) {
    const cpu = processCpuUs(pid);
    if (cpu !== null) us += cpu.user + cpu.system;
  }
  return us / 1000;
}

/** Busy and total jiffies of the whole machine. */
export function machineCpu(): { busy: number; total: number } {
  const parts = readText('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = parts.reduce((s, n) => s + n, 0);
  return { busy: total - parts[3]! - (parts[4] ?? 0), total };
}

/** The `roots` and every process below them (workers, successors), from /proc/PID/stat's parent ids. */
export function processTree(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [...roots];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(`/proc/${name}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out = new Set<number>();
  const walk = (pid: number): void => {
    if (out.has(pid)) return;
    out.add(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  for (const root of roots) walk(root);
  return [...out];
}
