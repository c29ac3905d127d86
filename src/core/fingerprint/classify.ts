/**
 * From what a reader saw to what a fingerprint is made of: the addon's facts and the JavaScript
 * fallback's go through {@link classifyHostFacts}, so both are judged by the same rules.
 */
import type { HostFacts, RawHostFacts } from './facts.js';
import { judgeInterfaces } from './adapters.js';
import { classifySmbios } from './placeholders.js';

/**
 * What a reader reported, judged: placeholders named in SMBIOS, network interfaces narrowed to
 * physical adapters. The addon's facts and the fallback's go through this one function.
 */
export function classifyHostFacts(raw: RawHostFacts): HostFacts {
  return {
    source: raw.source,
    smbiosSource: raw.smbiosSource,
    smbios: raw.smbios === null ? null : classifySmbios(raw.smbios),
    cpu: raw.cpu,
    adapters: judgeInterfaces(raw.interfaces).adapters,
    machineId: raw.machineId,
  };
}
