/**
 * The machine limits bench:million depends on (open files per process and in all, the listen
 * queues, the port range, memory), and the sysctls it may raise (only with --tune-sysctls) and
 * always restores.
 */
import { writeFileSync } from 'node:fs';
import { formatGiB as gib } from './format.js';
import { field, memAvailable, readText } from './proc.js';
import { status } from './status.js';

const log = (line: string): void => status(line, true);

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
    try {
      writeFileSync(SYSCTL(name), value);
      log(`sysctl ${name} restored to ${value}`);
    } catch (error) {
      log(`could not restore ${name}: ${String(error)}`);
    }
  }
}

/** Reports the limits a run of `n` connections depends on; raises sysctls only when `tune` is set. */
export function checkLimits(
  n: number,
  perProcess: number,
  loads: number,
  salt: number,
  tune: boolean,
): Record<string, unknown> {
  const N = n,
    PER = perProcess,
    LOADS = loads,
    SALT = salt;
  const files = openFilesLimit();
  const [lo, hi] = readSysctl('net.ipv4.ip_local_port_range').split(/\s+/).map(Number);
  const limits = {
    openFilesSoft: files.soft,
    openFilesHard: files.hard,
    fileMax: Number(readSysctl('fs.file-max')),
    nrOpen: Number(readSysctl('fs.nr_open')),
    fileNr: readSysctl('fs.file-nr'),
    somaxconn: Number(readSysctl('net.core.somaxconn')),
    tcpMaxSynBacklog: Number(readSysctl('net.ipv4.tcp_max_syn_backlog')),
    ipLocalPortRange: `${lo} ${hi}`,
    tcpMem: readSysctl('net.ipv4.tcp_mem'),
    memTotal: field(readText('/proc/meminfo'), 'MemTotal') * 1024,
    memAvailable: memAvailable(),
  };
  log(
    `limits: open files ${files.soft}/${files.hard} per process, fs.file-max ${limits.fileMax}, fs.nr_open ${limits.nrOpen}, ` +
      `somaxconn ${limits.somaxconn}, tcp_max_syn_backlog ${limits.tcpMaxSynBacklog}, port range ${limits.ipLocalPortRange} ` +
      `(sources are explicit: 127.${10}..${10 + LOADS - 1}.${SALT}.1-250 ports 10000-${10_000 + Math.ceil(PER / 250) - 1}), ` +
      `MemAvailable ${gib(limits.memAvailable)} of ${gib(limits.memTotal)}`,
  );
  const problems: string[] = [];
  if (files.soft < PER + 100) problems.push(`open files ${files.soft} < ${PER + 100}: lower --per-process`);
  const filesNeeded = 2 * N + 50_000;
  if (limits.fileMax < filesNeeded) {
    if (tune) setSysctl('fs.file-max', String(filesNeeded * 2));
    else
      problems.push(
        `fs.file-max ${limits.fileMax} < ${filesNeeded} (both ends of every connection): use --tune-sysctls`,
      );
  }
  if (tune) {
    // The listen backlog is 511 (the cluster's listen call) but the SYN queue and somaxconn cap it.
    if (limits.somaxconn < 4096) setSysctl('net.core.somaxconn', '4096');
    if (limits.tcpMaxSynBacklog < 8192) setSysctl('net.ipv4.tcp_max_syn_backlog', '8192');
  } else if (limits.somaxconn < 511 || limits.tcpMaxSynBacklog < 512) {
    log(
      `warning: somaxconn/tcp_max_syn_backlog below the listen backlog (511): connects may stall; --tune-sysctls raises them`,
    );
  }
  if (problems.length > 0) throw new Error(`limits:\n  ${problems.join('\n  ')}`);
  return limits;
}
