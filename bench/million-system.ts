/**
 * What the million-connection benchmark reads from the machine: memory and CPU
 * of processes and of the kernel from /proc, the limits it depends on, and the
 * sysctls it may raise (only with --tune-sysctls) and always restores.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

// ---- /proc ------------------------------------------------------------------------------------

export const readText = (path: string): string => { try { return readFileSync(path, 'utf8'); } catch { return ''; } };
export const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
export function memAvailable(): number { return field(readText('/proc/meminfo'), 'MemAvailable') * 1024; }

export interface Kernel { memAvailable: number; slab: number; sUnreclaim: number; sockets: number; tcpInuse: number; tcpOrphan: number; tcpTw: number; tcpMem: number }
export function kernel(): Kernel {
  const meminfo = readText('/proc/meminfo');
  const sockstat = readText('/proc/net/sockstat');
  const num = (re: RegExp): number => Number(re.exec(sockstat)?.[1] ?? NaN);
  return {
    memAvailable: field(meminfo, 'MemAvailable') * 1024, slab: field(meminfo, 'Slab') * 1024, sUnreclaim: field(meminfo, 'SUnreclaim') * 1024,
    sockets: num(/sockets: used (\d+)/), tcpInuse: num(/^TCP: inuse (\d+)/m), tcpOrphan: num(/^TCP:.* orphan (\d+)/m),
    tcpTw: num(/^TCP:.* tw (\d+)/m), tcpMem: num(/^TCP:.* mem (\d+)/m) * 4096,
  };
}

export interface Mem { processes: number; rss: number; pss: number; private: number; shared: number; anonymous: number }
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
export const minus = (a: Mem, b: Mem): Mem => ({ processes: a.processes, rss: a.rss - b.rss, pss: a.pss - b.pss, private: a.private - b.private, shared: a.shared - b.shared, anonymous: a.anonymous - b.anonymous });

/** utime + stime of the processes, in ms (USER_HZ = 100). */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readText(`/proc/${pid}/stat`);
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest.length > 13) ticks += Number(rest[11]) + Number(rest[12]);
  }
  return ticks * 10;
}
/** Busy and total jiffies of the whole machine. */
export function machineCpu(): { busy: number; total: number } {
  const parts = readText('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = parts.reduce((s, n) => s + n, 0);
  return { busy: total - parts[3]! - (parts[4] ?? 0), total };
}

// ---- limits and sysctls -----------------------------------------------------------------------

export const SYSCTL = (name: string): string => `/proc/sys/${name.replaceAll('.', '/')}`;
export const readSysctl = (name: string): string => readText(SYSCTL(name)).trim();
export function openFilesLimit(): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readText('/proc/self/limits'));
  const n = (s: string | undefined): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(line?.[1]), hard: n(line?.[2]) };
}
export const restore: { name: string; value: string }[] = [];
export function setSysctl(name: string, value: string): void {
  const before = readSysctl(name);
  if (before === value) return;
  writeFileSync(SYSCTL(name), value);
  restore.push({ name, value: before });
  log(`sysctl ${name}: ${before} -> ${value} (restored at exit)`);
}
export function restoreSysctls(): void {
  for (const { name, value } of restore.splice(0).reverse()) {
    try { writeFileSync(SYSCTL(name), value); log(`sysctl ${name} restored to ${value}`); } catch (error) { log(`could not restore ${name}: ${String(error)}`); }
  }
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** Reports the limits a run of `n` connections depends on; raises sysctls only when `tune` is set. */
export function checkLimits(n: number, perProcess: number, loads: number, salt: number, tune: boolean): Record<string, unknown> {
  const N = n, PER = perProcess, LOADS = loads, SALT = salt;
  const files = openFilesLimit();
  const [lo, hi] = readSysctl('net.ipv4.ip_local_port_range').split(/\s+/).map(Number);
  const limits = {
    openFilesSoft: files.soft, openFilesHard: files.hard,
    fileMax: Number(readSysctl('fs.file-max')), nrOpen: Number(readSysctl('fs.nr_open')), fileNr: readSysctl('fs.file-nr'),
    somaxconn: Number(readSysctl('net.core.somaxconn')), tcpMaxSynBacklog: Number(readSysctl('net.ipv4.tcp_max_syn_backlog')),
    ipLocalPortRange: `${lo} ${hi}`, tcpMem: readSysctl('net.ipv4.tcp_mem'),
    memTotal: field(readText('/proc/meminfo'), 'MemTotal') * 1024, memAvailable: memAvailable(),
  };
  log(`limits: open files ${files.soft}/${files.hard} per process, fs.file-max ${limits.fileMax}, fs.nr_open ${limits.nrOpen}, ` +
    `somaxconn ${limits.somaxconn}, tcp_max_syn_backlog ${limits.tcpMaxSynBacklog}, port range ${limits.ipLocalPortRange} ` +
    `(sources are explicit: 127.${10}..${10 + LOADS - 1}.${SALT}.1-250 ports 10000-${10_000 + Math.ceil(PER / 250) - 1}), ` +
    `MemAvailable ${gib(limits.memAvailable)} of ${gib(limits.memTotal)}`);
  const problems: string[] = [];
  if (files.soft < PER + 100) problems.push(`open files ${files.soft} < ${PER + 100}: lower --per-process`);
  const filesNeeded = 2 * N + 50_000;
  if (limits.fileMax < filesNeeded) {
    if (tune) setSysctl('fs.file-max', String(filesNeeded * 2));
    else problems.push(`fs.file-max ${limits.fileMax} < ${filesNeeded} (both ends of every connection): use --tune-sysctls`);
  }
  if (tune) {
    // The listen backlog is 511 (the cluster's listen call) but the SYN queue and somaxconn cap it.
    if (limits.somaxconn < 4096) setSysctl('net.core.somaxconn', '4096');
    if (limits.tcpMaxSynBacklog < 8192) setSysctl('net.ipv4.tcp_max_syn_backlog', '8192');
  } else if (limits.somaxconn < 511 || limits.tcpMaxSynBacklog < 512) {
    log(`warning: somaxconn/tcp_max_syn_backlog below the listen backlog (511): connects may stall; --tune-sysctls raises them`);
  }
  if (problems.length > 0) throw new Error(`limits:\n  ${problems.join('\n  ')}`);
  return limits;
}
