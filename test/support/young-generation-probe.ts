/**
 * How big V8's young generation grows in a Node process: a probe that allocates ~100 MB of
 * short-lived objects (enough for V8 to grow its semi-spaces to their maximum when nothing holds
 * them back) and prints `new_space BYTES` on stderr. As `--import` it answers SIGUSR2 in a process
 * that runs something else (the CLI); as an `--input-type=module -e` script it runs at once.
 */
const ALLOCATE_AND_PRINT = `
  let sink;
  for (let i = 0; i < 2e6; i++) sink = { i, s: 'x' + i };
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  process.stderr.write('new_space ' + space.space_size + ' ' + typeof sink + '\\n');
`;

/** For `node --import PROBE_ON_SIGNAL script`: measures on SIGUSR2. */
export const PROBE_ON_SIGNAL = `data:text/javascript,${encodeURIComponent(
  `import { getHeapSpaceStatistics } from 'node:v8';\nprocess.on('SIGUSR2', () => {${ALLOCATE_AND_PRINT}});`,
)}`;

/** The probe's statements, for a module that has imported getHeapSpaceStatistics. */
export const PROBE_NOW = ALLOCATE_AND_PRINT;

/** The young generation's size from the probe's output, or undefined before it has printed. */
export function newSpaceBytes(stderr: string): number | undefined {
  const match = /new_space (\d+)/.exec(stderr);
  return match === null ? undefined : Number(match[1]);
}

/** V8's starting young generation is 1 MiB per semi-space (2 MiB in all); left alone it grows to 16–32 MiB each. */
export const SMALL_YOUNG_GENERATION = 4 * 2 ** 20;
