import type { CoverageFeature, CoverageState } from './model.js';

export const FEATURE_LABELS: Readonly<Record<CoverageFeature, string>> = {
  ssmDistributor: 'SSM Distributor (EC2 instances)',
  eksProtection: 'EKS Protection (clusters)',
  ecrConnections: 'ECR Registry Connections',
};

export const STATE_LABELS: Readonly<Record<CoverageState, string>> = {
  protected: 'protected',
  partial: 'partial',
  unprotected: 'unprotected',
  'not-applicable': 'n/a',
  unknown: 'unknown',
};
