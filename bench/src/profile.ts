/**
 * Summarizes a V8 CPU profile (the one synth-app.ts records around app construction +
 * app.synth()): where the synth time goes, by package and by function.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by area (package or runtime). */
  readonly byArea: Array<{ area: string; ms: number }>;
  /** Self time of the hottest functions. */
  readonly topSelf: Array<{ fn: string; ms: number }>;
  /** Inclusive time of the library's own functions (time spent in and below them). */
  readonly libraryInclusive: Array<{ fn: string; ms: number }>;
}

export function summarizeProfile(profile: CpuProfile, libraryMarker: string): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const totalMs = [...self.values()].reduce((a, b) => a + b, 0);

  const byArea = new Map<string, number>();
  const bySelfFn = new Map<string, number>();
  const libInclusive = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    add(byArea, area(node.callFrame.url, node.callFrame.functionName, libraryMarker), ms);
    add(bySelfFn, label(node), ms);
    // Inclusive time of library functions: each library frame on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (n.callFrame.url.includes(libraryMarker)) {
        const l = label(n);
        if (!seen.has(l)) {
          seen.add(l);
          add(libInclusive, l, ms);
        }
      }
    }
  }
  const sorted = (m: Map<string, number>, k: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  return {
    totalMs,
    byArea: sorted(byArea, 12).map(([a, ms]) => ({ area: a, ms })),
    topSelf: sorted(bySelfFn, 12).map(([fn, ms]) => ({ fn, ms })),
    libraryInclusive: sorted(libInclusive, 12).map(([fn, ms]) => ({ fn, ms })),
  };
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

function label(n: ProfileNode): string {
  const url = n.callFrame.url;
  const short = url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/bench\/\.work\//, '');
  return `${n.callFrame.functionName || '(anonymous)'} ${short ? `${short}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
}

function area(url: string, fn: string, libraryMarker: string): string {
  if (!url) return fn.startsWith('(') ? `runtime ${fn}` : 'runtime (native)';
  if (url.includes(libraryMarker)) return 'the library itself';
  const m = /node_modules\/(aws-cdk-lib\/(?:[^/]+\/)?[^/]+|constructs|@restatedev\/restate-cdk|[^/]+)\//.exec(url);
  if (m) {
    if (m[1].startsWith('aws-cdk-lib/')) {
      const parts = m[1].split('/');
      return `aws-cdk-lib/${parts[1]}`;
    }
    return m[1];
  }
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}
