// Failures that no retry can fix: the data the step needs is gone or can never be valid (a
// deleted tenant, a row another process removed, a value Postgres refuses). Activities throw
// them as non-retryable application failures of these types; workflows recognise them by type
// and end visibly instead of a worker retrying them forever.
export const PERMANENT_FAILURE_TYPES = {
  // The tenant row is missing or no longer active (deleted, erased, suspended).
  tenantGone: 'TenantGone',
  // Anything else no retry can fix: a foreign-key, not-null or check violation, a malformed
  // value, a row the step requires that is not there.
  permanent: 'PermanentFailure',
} as const;
export type PermanentFailureType = (typeof PERMANENT_FAILURE_TYPES)[keyof typeof PERMANENT_FAILURE_TYPES];

export const isPermanentFailureType = (type: string | null | undefined): type is PermanentFailureType =>
  type === PERMANENT_FAILURE_TYPES.tenantGone || type === PERMANENT_FAILURE_TYPES.permanent;
