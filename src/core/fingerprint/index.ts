/**
 * The fingerprint model, pure (no `node:` import, no `Buffer`): the string form ({@link Fingerprint}),
 * salted component hashes ({@link hashComponent}), tolerant comparison ({@link match},
 * {@link explain}), strength ({@link fingerprintStrength}), the vendor salt
 * ({@link saltForVendor}) and the rules that classify what a reader saw ({@link classifyHostFacts}:
 * physical adapters, SMBIOS placeholders). Reading this machine's facts is the Node layer's work
 * (`src/node/fingerprint/get.ts`). Only re-exports; see docs/fingerprint.md.
 */
export { Fingerprint, COMPONENT_KINDS, hashComponent, type ComponentKind, type FingerprintComponent, type FingerprintSource, type FromFactsOptions } from './fingerprint.js';
export { match, explain, DEFAULT_WEIGHTS, type MatchStrategy, type MatchResult, type Explanation, type KindStatus } from './match.js';
export { fingerprintStrength, isStrongKind, STRONG_KINDS, WEAK_KINDS, type FingerprintStrength } from './strength.js';
export { saltForVendor } from './salt.js';
export type {
  HostFacts,
  RawHostFacts,
  NativeAdapter,
  NativeCpu,
  SmbiosInfo,
  SmbiosFacts,
  InterfaceFacts,
  LinuxInterfaceFacts,
  WindowsInterfaceFacts,
  MacInterfaceFacts,
  OtherInterfaceFacts,
} from './facts.js';
export { judgeInterface, judgeInterfaces, judgeLinuxInterface, judgeWindowsInterface, judgeMacInterface, judgeOtherInterface, type AdapterJudgement, type AdapterRejection, type AdapterReport } from './adapters.js';
export { classifySmbios, isPlaceholderUuid, isPlaceholderProcessorId } from './placeholders.js';
export { classifyHostFacts } from './classify.js';
