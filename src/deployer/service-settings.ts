import { AdminClient, ServiceMetadata } from './admin-client';
import { log } from './log';
import { SERVICE_CONFIGURATION_FIELDS, ServiceConfigurationFields, ServiceConfigurationProperty } from './properties';
import { Deadline } from './retry';

/**
 * Applies a registration's service configuration (retentions, timeouts) to the services it
 * discovered, and reads it back: Restate resets it whenever a new revision registers, so it is
 * applied after every registration. Throws `SettingsError` with a reason a person can act on.
 */
export class SettingsError extends Error {}

const CALL_TIMEOUT_MS = 10_000;

/** Service names the configuration names that discovery did not produce. */
export function unknownServices(config: ServiceConfigurationProperty | undefined, discovered: string[]): string[] {
  return Object.keys(config?.Services ?? {}).filter((name) => !discovered.includes(name));
}

/** Applies and verifies; returns what was applied, e.g. `Greeter {journal_retention 2h}`. */
export async function applyServiceConfiguration(
  client: AdminClient,
  config: ServiceConfigurationProperty | undefined,
  services: ServiceMetadata[],
  deadline: Deadline,
): Promise<string[]> {
  if (!config) return [];
  const applied: string[] = [];
  for (const service of services) {
    const named = config.Services?.[service.name];
    const fields: ServiceConfigurationFields = { ...config.Default, ...named };
    const isWorkflow = service.ty === undefined || service.ty === 'Workflow';
    if (fields.WorkflowCompletionRetentionSeconds !== undefined && !isWorkflow) {
      if (named?.WorkflowCompletionRetentionSeconds !== undefined) {
        throw new SettingsError(
          `service ${service.name} is a ${service.ty}, but workflowCompletionRetention applies to workflows only: remove it from serviceConfigurations['${service.name}'].`,
        );
      }
      // A default for every service: it applies to the workflows among them.
      delete (fields as { WorkflowCompletionRetentionSeconds?: string }).WorkflowCompletionRetentionSeconds;
    }
    const changes: Record<string, string> = {};
    for (const [field, apiName] of SERVICE_CONFIGURATION_FIELDS) {
      const seconds = fields[field];
      if (seconds !== undefined) changes[apiName] = `PT${seconds}S`;
    }
    if (Object.keys(changes).length === 0) continue;
    try {
      await client.modifyService(service.name, changes, deadline.cap(CALL_TIMEOUT_MS));
    } catch (e) {
      throw new SettingsError(`could not configure service ${service.name} (${describe(changes)}): ${(e as Error).message}`);
    }
    const readBack = await client.getService(service.name, deadline.cap(CALL_TIMEOUT_MS));
    const wrong = Object.entries(changes).filter(([apiName, iso]) => parseDuration(readBack[apiName]) !== Number(iso.slice(2, -1)));
    if (wrong.length > 0) {
      throw new SettingsError(
        `service ${service.name} was configured, but reads back ${wrong.map(([apiName, iso]) => `${apiName} ${JSON.stringify(readBack[apiName])} instead of ${human(Number(iso.slice(2, -1)))}`).join(', ')}.`,
      );
    }
    const summary = `${service.name} {${describe(changes)}}`;
    log('service configured', { service: service.name, ...changes });
    applied.push(summary);
  }
  return applied;
}

function describe(changes: Record<string, string>): string {
  return Object.entries(changes).map(([apiName, iso]) => `${apiName} ${human(Number(iso.slice(2, -1)))}`).join(', ');
}

const UNITS: Array<[string, number]> = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];

/** Seconds as Restate writes them back: `1d 1h 1m 1s`, `0s`. */
export function human(seconds: number): string {
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}

const FRIENDLY_UNITS: Record<string, number> = {
  w: 604_800,
  week: 604_800,
  weeks: 604_800,
  d: 86_400,
  day: 86_400,
  days: 86_400,
  h: 3_600,
  hr: 3_600,
  hrs: 3_600,
  hour: 3_600,
  hours: 3_600,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  ms: 0.001,
  msec: 0.001,
  millisecond: 0.001,
  milliseconds: 0.001,
};

/**
 * Seconds of a duration in jiff's friendly format (`1d 1h 1m 1s`, `5 hours`) or ISO 8601
 * (`PT7200S`); NaN when it is neither.
 */
export function parseDuration(value: unknown): number {
  if (typeof value !== 'string') return NaN;
  const iso = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(value.trim());
  if (iso) return Number(iso[1] ?? 0) * 3_600 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0);
  let total = 0;
  let matched = '';
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/gi)) {
    const size = FRIENDLY_UNITS[m[2].toLowerCase()];
    if (size === undefined) return NaN;
    total += Number(m[1]) * size;
    matched += m[0];
  }
  return matched.length > 0 && matched.replace(/\s/g, '') === value.replace(/[\s,]/g, '') ? Math.round(total * 1000) / 1000 : NaN;
}
