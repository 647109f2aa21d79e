import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Histogram } from './histogram.js';
import { MetricsRegistry } from './registry.js';

/**
 * The process and Node.js runtime, under the names every Prometheus client library uses
 * (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_gc_duration_seconds, ... as
 * prom-client's collectDefaultMetrics writes them), so stock Node.js dashboards and alerts work
 * unchanged; hence no `yak_` prefix. Read at scrape time, except GC pauses (observed as they happen)
 * and the event-loop delay (sampled by libuv, published per window).
 *
 * One per process: every broker in it shares the process, and the GC observer and the delay
 * monitor are process-wide.
 */
let shared: MetricsRegistry | null = null;

export function runtimeMetrics(): MetricsRegistry {
  shared ??= createRuntimeMetrics();
  return shared;
}

/** How long one event-loop delay window lasts: its percentiles are what the gauges show until the next. */
export const EVENT_LOOP_WINDOW_MS = 10_000;
const RESOLUTION_MS = 10;
const GC_BUCKETS_SECONDS = [0.001, 0.01, 0.1, 1, 2, 5];

export function createRuntimeMetrics(): MetricsRegistry {
  const r = new MetricsRegistry({ prefix: '' });
  const cpuUser = r.counter('process_cpu_user_seconds_total', 'User CPU time spent, in seconds.');
  const cpuSystem = r.counter('process_cpu_system_seconds_total', 'System CPU time spent, in seconds.');
  const cpuTotal = r.counter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.');
  const startTime = r.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.');
  const rss = r.gauge('process_resident_memory_bytes', 'Resident memory size, in bytes.');
  const heapTotal = r.gauge('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.');
  const heapUsed = r.gauge('nodejs_heap_size_used_bytes', 'V8 heap used, in bytes.');
  const external = r.gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects (buffers among them), in bytes.');
  const version = r.gauge('nodejs_version_info', 'Node.js version, as labels; always 1.', ['version', 'major', 'minor', 'patch']);
  const [major, minor, patch] = process.versions.node.split('.');
  version.set({ version: process.version, major: major ?? '', minor: minor ?? '', patch: patch ?? '' }, 1);
  startTime.set(Math.round((Date.now() - process.uptime() * 1000) / 1000));

  const fds = openFileCounter();
  const openFds = fds ? r.gauge('process_open_fds', 'Open file descriptors.') : null;
  const maxFds = maxOpenFiles();
  if (maxFds !== null) r.gauge('process_max_fds', 'Limit of open file descriptors (soft).').set(maxFds);

  const loop = eventLoopDelay(r);
  observeGc(r.histogram('nodejs_gc_duration_seconds', 'Garbage collection pauses by kind, in seconds.', GC_BUCKETS_SECONDS, ['kind']));

  let lastCpu = { user: 0, system: 0 };
  r.onCollect(() => {
    // cpuUsage() only grows, so the counters follow it by its increments.
    const cpu = process.cpuUsage();
    const du = Math.max(0, cpu.user - lastCpu.user) / 1e6;
    const ds = Math.max(0, cpu.system - lastCpu.system) / 1e6;
    lastCpu = cpu;
    cpuUser.inc(du);
    cpuSystem.inc(ds);
    cpuTotal.inc(du + ds);
    const mem = process.memoryUsage();
    rss.set(mem.rss);
    heapTotal.set(mem.heapTotal);
    heapUsed.set(mem.heapUsed);
    external.set(mem.external);
    if (openFds && fds) openFds.set(fds());
    loop.publishIfDue();
  });
  return r;
}

/** Counts /proc/self/fd (Linux); null where there is no such folder, and then no gauge. */
function openFileCounter(): (() => number) | null {
  const count = () => readdirSync('/proc/self/fd').length - 1; // minus the folder's own descriptor
  try {
    count();
    return () => {
      try {
        return count();
      } catch {
        return NaN;
      }
    };
  } catch {
    return null;
  }
}

function maxOpenFiles(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * libuv's own delay monitor (sampling every 10 ms; the lag is how much later than that a sample came). A scrape must not reset it (the desktop app polls
 * /metrics several times a second, Prometheus every 15 s), so windows are fixed: the gauges show
 * the last whole window, rolled over at the first scrape after it ended (the running first window
 * until then).
 */
function eventLoopDelay(r: MetricsRegistry): { publishIfDue(): void } {
  const p50 = r.gauge('nodejs_eventloop_lag_p50_seconds', `Median event-loop delay over the last ${EVENT_LOOP_WINDOW_MS / 1000} s window, in seconds.`);
  const p99 = r.gauge('nodejs_eventloop_lag_p99_seconds', `99th percentile event-loop delay over the last ${EVENT_LOOP_WINDOW_MS / 1000} s window, in seconds.`);
  const max = r.gauge('nodejs_eventloop_lag_max_seconds', `Largest event-loop delay in the last ${EVENT_LOOP_WINDOW_MS / 1000} s window, in seconds.`);
  const mean = r.gauge('nodejs_eventloop_lag_mean_seconds', `Mean event-loop delay over the last ${EVENT_LOOP_WINDOW_MS / 1000} s window, in seconds.`);
  let h: IntervalHistogram;
  try {
    h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    h.enable();
  } catch {
    return { publishIfDue() {} };
  }
  let windowStart = performance.now();
  let rolled = false;
  const publish = () => {
    // Empty until the first 10 ms sample: then NaN says "not known yet" rather than a false 0.
    const ok = h.count > 0;
    // The monitor records each whole sampling period; the lag is what exceeds it.
    const lag = (ns: number) => (ok ? Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000 : NaN);
    p50.set(lag(h.percentile(50)));
    p99.set(lag(h.percentile(99)));
    max.set(lag(h.max));
    mean.set(lag(h.mean));
  };
  publish();
  return {
    publishIfDue() {
      const now = performance.now();
      if (now - windowStart < EVENT_LOOP_WINDOW_MS) {
        if (!rolled) publish();
        return;
      }
      publish();
      h.reset();
      windowStart = now;
      rolled = true;
    },
  };
}

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

function observeGc(h: Histogram<'kind'>): void {
  const byKind = new Map(Object.entries(GC_KINDS).map(([k, name]) => [Number(k), h.labels({ kind: name })]));
  try {
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as { detail?: { kind?: number } }).detail?.kind;
        byKind.get(kind ?? -1)?.observe(e.duration / 1000);
      }
    });
    obs.observe({ entryTypes: ['gc'] });
  } catch {
    // No GC entries on this runtime: the histogram stays empty.
  }
}
