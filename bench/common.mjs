// Shared by bench.mjs and bench-browser.mjs: argument parsing, the machine's description,
// child processes, number formatting and Markdown tables.
import { execFileSync, spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { REPO } from './browser.mjs';

export function parseArgs(argv, spec) {
  const options = {};
  for (const [name, value] of Object.entries(spec)) options[name] = value;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    const name = arg.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(name in spec)) throw new Error(`unknown option: ${arg}`);
    if (typeof spec[name] === 'boolean') options[name] = true;
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      options[name] = typeof spec[name] === 'number' ? Number(value) : value;
      if (typeof spec[name] === 'number' && !Number.isFinite(options[name])) {
        throw new Error(`${arg} needs a number`);
      }
    }
  }
  return options;
}

const run = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};

export function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const flags = cpuinfo.match(/^flags\s*:\s*(.+)$/m)?.[1].split(' ') ?? [];
  const cores = new Set();
  for (const block of cpuinfo.split(/\n\n+/)) {
    const core = block.match(/^core id\s*:\s*(\d+)$/m)?.[1];
    if (core !== undefined) cores.add(`${block.match(/^physical id\s*:\s*(\d+)$/m)?.[1]}:${core}`);
  }
  const rustflags = (() => {
    try {
      return readFileSync(`${REPO}/.cargo/config.toml`, 'utf8');
    } catch {
      return '';
    }
  })();
  const commit = run('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'Cargo.toml', 'Cargo.lock']);
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    // As the (maybe virtual) machine reports them: a VM may still put two vCPUs on one core's
    // SMT siblings, which `parallelProbe` can tell.
    physicalCores: cores.size || null,
    virtualMachine: flags.includes('hypervisor'),
    cpuModel: model,
    simd: ['avx2', 'avx512f', 'fma'].filter((f) => flags.includes(f)),
    wasmBuild: ['simd128', 'relaxed-simd'].filter((f) => rustflags.includes(`+${f}`)),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    chromium: run(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version']),
    commit: commit ? `${commit}${dirty ? ' (src modified)' : ''}` : null,
    loadAverage1m: loadavg()[0],
  };
}

// Other processes busy on the CPU now (a build, another benchmark): their share of the cores,
// sampled over half a second from /proc/stat. Benchmarks here need the machine to themselves.
export async function busyCores() {
  const sample = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = sample();
    await new Promise((r) => setTimeout(r, 500));
    const b = sample();
    return (1 - (b.idle - a.idle) / (b.total - a.total)) * cpus().length;
  } catch {
    return null;
  }
}

// CPU time spent by processes outside this benchmark while it runs, in cores (1.0 = one core
// busy the whole time): the machine's busy time from /proc/stat minus the time of this process
// and its descendants (live ones read from /proc, finished ones in the cutime of their parent).
// Linux only; null elsewhere.
function treeTicks() {
  const stats = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // fields[1] = ppid; [11..14] = utime, stime, cutime, cstime
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks });
    } catch {
      // the process ended while we looked
    }
  }
  const ours = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid }] of stats) {
      if (!ours.has(pid) && ours.has(ppid)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of ours) ticks += stats.get(pid)?.ticks ?? 0;
  return ticks;
}

function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  // user, nice, system, irq, softirq, steal: the same clock (USER_HZ) as /proc/PID/stat
  return fields.slice(0, 8).reduce((a, b) => a + b, 0) - idle;
}

export function cpuMeter() {
  let start;
  try {
    start = { at: Date.now(), machine: machineTicks(), ours: treeTicks() };
  } catch {
    return { stop: () => null };
  }
  return {
    stop() {
      try {
        const seconds = (Date.now() - start.at) / 1000;
        const other = machineTicks() - start.machine - (treeTicks() - start.ours);
        // USER_HZ is 100 on Linux.
        // Too short a span says nothing (one clock tick is 10 ms).
        return seconds >= 1 ? Math.max(0, other / 100 / seconds) : null;
      } catch {
        return null;
      }
    },
  };
}

// Waits up to `seconds` for other processes to leave the CPU (three idle samples in a row);
// resolves to the last busy figure.
export async function waitIdle(seconds) {
  const until = Date.now() + seconds * 1000;
  let calm = 0;
  let busy = await busyCores();
  while (seconds > 0 && busy != null && Date.now() < until) {
    calm = busy < 0.15 ? calm + 1 : 0;
    if (calm >= 3) break;
    if (calm === 0) log(`waiting for an idle machine: ${busy.toFixed(1)} cores busy`);
    await new Promise((r) => setTimeout(r, 5000));
    busy = await busyCores();
  }
  return busy;
}

export function busyWarning(busy) {
  return busy != null && busy > 0.3
    ? `**WARNING: other processes kept ${busy.toFixed(1)} of ${cpus().length} cores busy when this run started: these figures are unreliable; rerun on an idle machine.**`
    : null;
}

export function machineLine(m) {
  const cores =
    m.physicalCores && m.physicalCores !== m.cores
      ? `${m.cores} logical cores on ${m.physicalCores} physical`
      : `${m.cores} cores${m.physicalCores ? ', 1 thread per core' : ''}`;
  const probe = m.parallel
    ? `, two threads at once ran at ${m.parallel.map((r) => `${r.toFixed(2)}×`).join(' and ')} the speed of one alone`
    : '';
  const wasm = m.wasmBuild ? `; wasm build: ${m.wasmBuild.join(', ') || 'no SIMD'}` : '';
  const browser = m.browserWasm ? ` (the browser runs${m.browserWasm.relaxedSimd ? '' : ' no'} relaxed SIMD)` : '';
  return `${cores}${m.virtualMachine ? ' (virtual machine)' : ''}${probe}, ${m.cpuModel}${m.simd.length ? ` (${m.simd.join(', ')})` : ''}, ${m.memoryGiB} GiB${wasm}${browser}; ${m.chromium ?? 'no chromium'}; node ${m.node}`;
}

// Whether a second thread gets a core of its own: a float loop timed in one thread, then in two
// at once; resolves to each one's speed relative to the one alone (about 1: separate cores;
// about 0.5 to 0.7: SMT siblings of one core, or a busy machine). Takes about a second.
export async function parallelProbe() {
  const loop = `
    const { parentPort } = require('node:worker_threads');
    parentPort.once('message', () => {
      let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
      const start = performance.now();
      for (let i = 0; i < 1e8; i++) {
        a = a * 0.9999999 + 1e-7; b = b * 0.9999999 + 1e-7; c = c * 0.9999999 + 1e-7; d = d * 0.9999999 + 1e-7;
        e = e * 0.9999999 + 1e-7; f = f * 0.9999999 + 1e-7; g = g * 0.9999999 + 1e-7; h = h * 0.9999999 + 1e-7;
      }
      parentPort.postMessage({ ms: performance.now() - start, sum: a + b + c + d + e + f + g + h });
    });`;
  const timed = async (count) => {
    const workers = Array.from({ length: count }, () => new Worker(loop, { eval: true }));
    await new Promise((ready) => setTimeout(ready, 100)); // let them start before the clock
    const times = await Promise.all(
      workers.map(
        (w) =>
          new Promise((done) => {
            w.once('message', ({ ms }) => done(ms));
            w.postMessage('go');
          }),
      ),
    );
    await Promise.all(workers.map((w) => w.terminate()));
    return times;
  };
  const [alone] = await timed(1);
  return (await timed(2)).map((ms) => alone / ms);
}

// Runs a command, streaming its stderr through (progress) and keeping its stdout; resolves to
// { code, stdout }.
export function spawnCollect(cmd, args, { env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', (error) => resolve({ code: -1, stdout, error: error.message }));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

// The last line of a command's stdout that parses as a JSON object.
export function lastJson(stdout) {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const value = JSON.parse(line);
      if (value && typeof value === 'object') return value;
    } catch {
      // not JSON: progress output
    }
  }
  return null;
}

export const log = (message) => process.stderr.write(`[bench] ${message}\n`);

// Number formatting for the tables.
export const fmt = {
  ms: (v) => (v == null ? '—' : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`),
  rate: (v, unit) => (v == null ? '—' : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${unit}`),
  loss: (v) => (v == null ? '—' : v.toFixed(4)),
  ratio: (v) => (v == null || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`),
  mb: (bytes) => (bytes == null ? '—' : `${(bytes / 1e6).toFixed(2)} MB`),
};

export function markdownTable(headers, rows) {
  const escapeCell = (cell) =>
    String(cell ?? '—')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}

export function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

// Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in a file, or
// appends `heading` and the block when the markers are not there yet.
export function replaceBlock(path, name, heading, body) {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const text = readFileSync(path, 'utf8');
  const block = `${begin}\n${body.trim()}\n${end}`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  const next =
    start >= 0 && stop > start
      ? text.slice(0, start) + block + text.slice(stop + end.length)
      : `${text.trimEnd()}\n\n${heading}\n\n${block}\n`;
  writeFileSync(path, next);
}
