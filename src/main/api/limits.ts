/** Bounds of the cluster settings, shared by argument validation and the supervisor's own checks. */
export const SETTINGS_LIMITS = {
  brokers: { min: 1, max: 7 },
  leaseSeconds: { min: 0.5, max: 600 },
  renewSeconds: { min: 0.1, max: 300 },
  partitions: { min: 1, max: 64 },
} as const;
